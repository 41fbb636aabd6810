/**
 * The task functions of dataframes (dataframe/index.ts). A partition travels between tasks as
 * the Arrow IPC bytes of a polars DataFrame (`nodejs-polars`, an optional peer dependency loaded
 * when a dataframe task first runs): plain bytes, which threads transfer without a copy and
 * processes send as they are. Exported, so every scheduler's workers import them by module and
 * name (the package's `dataframeOps` entry).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { blockBytes } from '../collections/blocks.js';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type * as Polars from 'nodejs-polars';

type PL = typeof Polars;
type DataFrame = Polars.DataFrame;
type PlExpr = Polars.Expr;

let loaded: PL | undefined;

/** nodejs-polars, loaded on first use; a clear error when it is not installed. */
export function polars(): PL {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('nodejs-polars') as PL;
  } catch (error) {
    throw new Error(`skein/dataframe holds its partitions in nodejs-polars, which cannot be loaded here (${error instanceof Error ? error.message.split('\n')[0] : String(error)}). Install it beside skein: npm install nodejs-polars@0.24.1`, { cause: error });
  }
  return loaded;
}

/** A partition on its way between tasks: the Arrow IPC bytes of a frame. */
export type Bytes = Uint8Array;

export function toBytes(df: DataFrame): Bytes {
  const buf = df.writeIPC();
  // a buffer of its own is transferred between threads; a slice of Node's pool is copied out first
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? new Uint8Array(buf.buffer) : new Uint8Array(buf);
}

export function fromBytes(bytes: Bytes): DataFrame {
  return polars().readIPC(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** An expression as data (dataframe/index.ts builds them): compiled to polars in the worker. */
export type ExprSpec = readonly ['col', string] | readonly ['lit', unknown] | readonly ['not', ExprSpec] | readonly ['isIn', ExprSpec, readonly unknown[]] | readonly [BinaryOp, ExprSpec, ExprSpec];
export type BinaryOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne' | 'and' | 'or' | 'add' | 'sub' | 'mul' | 'div';

export function compile(spec: ExprSpec): PlExpr {
  const pl = polars();
  switch (spec[0]) {
    case 'col':
      return pl.col(spec[1]);
    case 'lit':
      return pl.lit(spec[1] as number);
    case 'not':
      return compile(spec[1]).not();
    case 'isIn':
      return compile(spec[1]).isIn(spec[2] as unknown[]);
    default: {
      const [op, a, b] = spec;
      const x = compile(a);
      const y = compile(b);
      switch (op) {
        case 'gt':
          return x.gt(y);
        case 'ge':
          return x.gtEq(y);
        case 'lt':
          return x.lt(y);
        case 'le':
          return x.ltEq(y);
        case 'eq':
          return x.eq(y);
        case 'ne':
          return x.neq(y);
        case 'and':
          return x.and(y);
        case 'or':
          return x.or(y);
        case 'add':
          return x.add(y);
        case 'sub':
          return x.sub(y);
        case 'mul':
          return x.mul(y);
        case 'div':
          return x.div(y);
      }
    }
  }
}

/** Frame steps a dataframe applies lazily, fused into the task that takes the partition. */
export type Step = readonly ['select', readonly string[]] | readonly ['filter', ExprSpec] | readonly ['assign', ReadonlyArray<readonly [string, ExprSpec]>];

function apply(steps: readonly Step[], df: DataFrame): DataFrame {
  for (const step of steps) {
    if (step[0] === 'select') df = df.select(...step[1]);
    else if (step[0] === 'filter') df = df.filter(compile(step[1]));
    else df = df.withColumns(...step[1].map(([name, spec]) => compile(spec).alias(name)));
  }
  return df;
}

/** What a partition's task takes: the partition's bytes, or a block of a CSV file to read. */
export type Part = Bytes | ReadonlyMap<0, CsvBlock>;
/** A CSV block: the file, its byte range, the header line to put before it (blocks after the first), and the column types to cast to. */
export type CsvBlock = readonly [path: string, start: number, end: number | null, header: string | null, schema: ReadonlyArray<readonly [string, string]>];

async function frameOf(part: Part): Promise<DataFrame> {
  if (part instanceof Uint8Array) return fromBytes(part);
  const [path, start, end, header, schema] = (part as ReadonlyMap<0, CsvBlock>).get(0)!;
  const body = await readBlock(path, start, end);
  const pl = polars();
  let df = pl.readCSV(header === null ? body : Buffer.concat([Buffer.from(`${header}\n`), body]), { hasHeader: true });
  // every block with the types the first one had (a block of whole numbers stays Float64 if the column is)
  const casts = schema.filter(([name, type]) => df.columns.includes(name) && typeName(df.getColumn(name).dtype) !== type).map(([name, type]) => pl.col(name).cast((pl as unknown as Record<string, Polars.DataType>)[type]!));
  if (casts.length > 0) df = df.withColumns(...casts);
  return df;
}

/** A polars type's name (`Float64`). */
export function typeName(dtype: unknown): string {
  const text = String(dtype);
  return /DataType\((\w+)/.exec(text)?.[1] ?? text;
}

/** The bytes of a block of `path` (collections/blocks.ts): its rows. */
async function readBlock(path: string, start: number, end: number | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of blockBytes(path, start, end)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A partition through `steps`: the new partition. */
export async function pipeline(steps: readonly Step[], part: Part): Promise<Bytes> {
  return toBytes(apply(steps, await frameOf(part)));
}

/** A partition given as data: its bytes held in a Map so the graph keeps them as they are. */
export function unquote(held: ReadonlyMap<0, Bytes>): Bytes {
  return held.get(0)!;
}

/** Partitions one after the other, as one. */
export function concatFrames(...parts: Bytes[]): Bytes {
  const frames = parts.map(fromBytes).filter((df) => df.width > 0);
  return toBytes(frames.length === 0 ? polars().DataFrame({}) : frames.length === 1 ? frames[0]! : polars().concat(frames, { how: 'vertical' }));
}

export type Agg = 'sum' | 'mean' | 'count' | 'min' | 'max';

/** groupby, in one partition: the partial aggregates (sums and counts for means). */
export async function groupPartial(steps: readonly Step[], by: readonly string[], aggs: ReadonlyArray<readonly [string, Agg]>, part: Part): Promise<Bytes> {
  const pl = polars();
  const df = apply(steps, await frameOf(part));
  const exprs: PlExpr[] = [];
  for (const [column, agg] of aggs) {
    if (agg === 'sum' || agg === 'mean') exprs.push(pl.col(column).sum().cast(pl.Float64).alias(`${column}__sum`));
    if (agg === 'count' || agg === 'mean') exprs.push(pl.col(column).count().cast(pl.Float64).alias(`${column}__count`));
    if (agg === 'min') exprs.push(pl.col(column).min().alias(`${column}__min`));
    if (agg === 'max') exprs.push(pl.col(column).max().alias(`${column}__max`));
  }
  return toBytes(df.groupBy([...by]).agg(...exprs));
}

/** groupby, across partitions: partials combined (sums of sums and counts, min of mins …). */
export function groupCombine(by: readonly string[], aggs: ReadonlyArray<readonly [string, Agg]>, ...parts: Bytes[]): Bytes {
  const pl = polars();
  const all = fromBytes(concatFrames(...parts));
  if (all.height === 0) return toBytes(all);
  const exprs: PlExpr[] = [];
  for (const [column, agg] of aggs) {
    if (agg === 'sum' || agg === 'mean') exprs.push(pl.col(`${column}__sum`).sum());
    if (agg === 'count' || agg === 'mean') exprs.push(pl.col(`${column}__count`).sum());
    if (agg === 'min') exprs.push(pl.col(`${column}__min`).min());
    if (agg === 'max') exprs.push(pl.col(`${column}__max`).max());
  }
  return toBytes(all.groupBy([...by]).agg(...exprs));
}

/** groupby's result from the combined partials: one column per aggregate (named after its column), sorted by the keys. */
export function groupFinish(by: readonly string[], aggs: ReadonlyArray<readonly [string, Agg]>, sortBy: readonly string[] | null, descending: boolean, part: Bytes): Bytes {
  const pl = polars();
  const df = fromBytes(part);
  const exprs: PlExpr[] = aggs.map(([column, agg]) => {
    const name = by.includes(column) ? agg : aggs.filter(([c]) => c === column).length > 1 ? `${column}_${agg}` : column;
    switch (agg) {
      case 'sum':
        return pl.col(`${column}__sum`).alias(name);
      case 'count':
        return pl.col(`${column}__count`).cast(pl.Int64).alias(name);
      case 'mean':
        return pl.col(`${column}__sum`).div(pl.col(`${column}__count`)).alias(name);
      case 'min':
        return pl.col(`${column}__min`).alias(name);
      case 'max':
        return pl.col(`${column}__max`).alias(name);
    }
  });
  const out = df.height === 0 ? df : df.select(...by.map((b) => pl.col(b)), ...exprs);
  if (out.height === 0) return toBytes(out);
  // sorted by the keys, then (stably) by the sort column: ties keep the keys' order on every run
  const byKeys = out.sort([...by], false);
  return toBytes(sortBy === null ? byKeys : byKeys.sort([...sortBy], descending, false, true));
}

/** The shard `i` of `n` of a partition through `steps`, by the hash of `on` (a merge's shuffle). */
export async function shardFrame(steps: readonly Step[], on: readonly string[], n: number, part: Part): Promise<Bytes[]> {
  const pl = polars();
  const frame = apply(steps, await frameOf(part));
  // each row's shard from its key's text (the same on both sides, whatever the column's type)
  const keys = on.map((c) => frame.getColumn(c).toArray() as unknown[]);
  const shard = new Int32Array(frame.height);
  for (let r = 0; r < frame.height; r++) {
    let h = 0x811c9dc5;
    for (const column of keys) {
      const text = String(column[r]);
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ 0x1f, 0x01000193);
    }
    shard[r] = (h >>> 0) % n;
  }
  const df = frame.withColumns(pl.Series('__shard', shard));
  return Array.from({ length: n }, (_, i) => toBytes(df.filter(pl.col('__shard').eq(pl.lit(i))).drop('__shard')));
}

export function pickShard(i: number, shards: Bytes[]): Bytes {
  return shards[i]!;
}

/** A merge of shard i of each side. */
export function joinShards(on: readonly string[], how: 'inner' | 'left' | 'outer', leftCount: number, ...shards: Bytes[]): Bytes {
  const left = fromBytes(concatFrames(...shards.slice(0, leftCount)));
  const right = fromBytes(concatFrames(...shards.slice(leftCount)));
  if (left.width === 0 || right.width === 0) return toBytes(polars().DataFrame({}));
  return toBytes(left.join(right, { on: [...on], how } as never));
}

/** The first `n` rows of a partition through `steps`. */
export async function headOf(steps: readonly Step[], n: number, part: Part): Promise<Bytes> {
  return toBytes(apply(steps, await frameOf(part)).head(n));
}

/** describe's partial: per numeric column count, sum, sum of squares, min, max. */
export async function describePartial(steps: readonly Step[], part: Part): Promise<Bytes> {
  const pl = polars();
  const df = apply(steps, await frameOf(part));
  const numeric = df.columns.filter((c) => /^(Int|UInt|Float)/.test(typeName(df.getColumn(c).dtype)));
  const exprs = numeric.flatMap((c) => [
    pl.col(c).count().cast(pl.Float64).alias(`${c}__count`),
    pl.col(c).cast(pl.Float64).sum().alias(`${c}__sum`),
    pl.col(c).cast(pl.Float64).pow(2).sum().alias(`${c}__sq`),
    pl.col(c).cast(pl.Float64).min().alias(`${c}__min`),
    pl.col(c).cast(pl.Float64).max().alias(`${c}__max`),
  ]);
  return toBytes(df.select(...exprs));
}

/** describe: count, mean, std (n - 1), min, max of each numeric column, as rows named by the statistic. */
export function describeFinish(...parts: Bytes[]): Bytes {
  const pl = polars();
  const all = fromBytes(concatFrames(...parts));
  const columns = [...new Set(all.columns.map((c) => c.replace(/__(count|sum|sq|min|max)$/, '')))];
  const total = (name: string, how: 'sum' | 'min' | 'max') => {
    const s = all.getColumn(name);
    return Number(how === 'sum' ? s.sum() : how === 'min' ? s.min() : s.max());
  };
  const stats: Record<string, unknown[]> = { statistic: ['count', 'mean', 'std', 'min', 'max'] };
  for (const c of columns) {
    const n = total(`${c}__count`, 'sum');
    const sum = total(`${c}__sum`, 'sum');
    const sq = total(`${c}__sq`, 'sum');
    const mean = sum / n;
    stats[c] = [n, mean, Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1))), total(`${c}__min`, 'min'), total(`${c}__max`, 'max')];
  }
  return toBytes(pl.DataFrame(stats));
}

/** Writes a partition through `steps` as CSV to `path` (folders made); returns the path. */
export async function writeCsv(path: string, steps: readonly Step[], part: Part): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, apply(steps, await frameOf(part)).writeCSV());
  return path;
}

export function listOf<T>(...xs: T[]): T[] {
  return xs;
}
