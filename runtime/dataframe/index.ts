/**
 * `skein/dataframe`: Dask's dataframe for TypeScript. A dataframe is a list of partitions, each
 * a polars DataFrame (`nodejs-polars`, installed beside skein), computed by a graph; its methods
 * build more graph and `compute()` runs it on any scheduler (threads by default). Nothing is
 * scheduled here: partition i of an operation is the task `<op>-<token>-<i>`. Column steps
 * (`select`, `filter`, `assign`) are fused into the task that takes the partition; `groupby`
 * aggregates as a tree of partials; `merge` shuffles both sides into hash partitions of the key.
 *
 * Expressions are data, built with `col` and `lit` (`col('value').gt(0)`), so they reach every
 * worker; the worker compiles them to polars expressions.
 */
import { statSync, openSync, readSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ComputeOptions, get } from '../schedule.js';
import { tokenize } from '../graph/tokenize.js';
import { registerModule } from '../loader/locate.js';
import { runtimeFile } from '../loader/register.js';
import * as ops from './ops.js';
import { blockRanges } from '../collections/blocks.js';
import { type Graph, Partitioned, SPLIT_EVERY, matchFiles, merged, parseSize } from '../collections/partitioned.js';
import type { Agg, BinaryOp, Bytes, ExprSpec, Step } from './ops.js';

registerModule(import.meta.url.endsWith('.ts') ? new URL('./ops.ts', import.meta.url).href : runtimeFile('dataframeOps.js'), ops);


/** An expression over a partition's columns, as data. */
export class Expr {
  constructor(readonly spec: ExprSpec) {}
  #bin(op: BinaryOp, other: Expr | number | string | boolean): Expr {
    return new Expr([op, this.spec, other instanceof Expr ? other.spec : ['lit', other]]);
  }
  gt(other: Expr | number | string): Expr {
    return this.#bin('gt', other);
  }
  ge(other: Expr | number | string): Expr {
    return this.#bin('ge', other);
  }
  lt(other: Expr | number | string): Expr {
    return this.#bin('lt', other);
  }
  le(other: Expr | number | string): Expr {
    return this.#bin('le', other);
  }
  eq(other: Expr | number | string | boolean): Expr {
    return this.#bin('eq', other);
  }
  ne(other: Expr | number | string | boolean): Expr {
    return this.#bin('ne', other);
  }
  and(other: Expr): Expr {
    return this.#bin('and', other);
  }
  or(other: Expr): Expr {
    return this.#bin('or', other);
  }
  add(other: Expr | number): Expr {
    return this.#bin('add', other);
  }
  sub(other: Expr | number): Expr {
    return this.#bin('sub', other);
  }
  mul(other: Expr | number): Expr {
    return this.#bin('mul', other);
  }
  div(other: Expr | number): Expr {
    return this.#bin('div', other);
  }
  not(): Expr {
    return new Expr(['not', this.spec]);
  }
  isIn(values: readonly unknown[]): Expr {
    return new Expr(['isIn', this.spec, [...values]]);
  }
}

/** A column, for expressions: `col('value').gt(0)`. */
export function col(name: string): Expr {
  return new Expr(['col', name]);
}

/** A constant, for expressions. */
export function lit(value: number | string | boolean): Expr {
  return new Expr(['lit', value]);
}

/** A computed frame: rows as plain objects, columns, and the polars DataFrame itself. */
export class Frame {
  constructor(
    /** The nodejs-polars DataFrame. */
    readonly polars: ReturnType<typeof ops.fromBytes>,
  ) {}

  get columns(): string[] {
    return this.polars.columns;
  }

  get height(): number {
    return this.polars.height;
  }

  /** Every row as a plain object. */
  toRecords(): Array<Record<string, unknown>> {
    return this.polars.toRecords() as Array<Record<string, unknown>>;
  }

  /** A column's values. */
  column(name: string): unknown[] {
    return [...this.polars.getColumn(name)];
  }
}

/** A frame computed from a dataframe (a groupby's result, describe, head). */
export class FrameItem {
  constructor(
    readonly graph: Readonly<Graph>,
    readonly key: string,
  ) {}

  async compute(options?: ComputeOptions): Promise<Frame> {
    return new Frame(ops.fromBytes((await get(this.graph, this.key, options)) as Bytes));
  }
}

export class DataFrame extends Partitioned<Step> {
  constructor(graph: Readonly<Graph>, name: string, npartitions: number, steps: readonly Step[] = [], label = '', parts?: readonly unknown[]) {
    super(graph, name, npartitions, steps, label, parts);
  }

  protected get pipeline(): Function {
    return ops.pipeline;
  }

  #step(label: string, step: Step): DataFrame {
    return new DataFrame(this.source, this.sourceName, this.npartitions, [...this.steps, step], label, this.readsFiles ? this.parts : undefined);
  }

  /** Runs the graph and gives the whole frame. */
  async compute(options?: ComputeOptions): Promise<Frame> {
    const key = `concat-${tokenize([this.name])}`;
    return new Frame(ops.fromBytes((await get(merged(this.graph, { [key]: [ops.concatFrames, ...this.keys] }), key, options)) as Bytes));
  }

  /** These columns, in this order. */
  select(...columns: string[]): DataFrame {
    return this.#step('select', ['select', columns]);
  }

  /** The rows where `predicate` holds (`col('value').gt(0)`). */
  filter(predicate: Expr): DataFrame {
    return this.#step('filter', ['filter', predicate.spec]);
  }

  /** New (or replaced) columns from expressions: `assign({ total: col('price').mul(col('n')) })`. */
  assign(columns: Record<string, Expr>): DataFrame {
    return this.#step('assign', ['assign', Object.entries(columns).map(([name, e]) => [name, e.spec] as const)]);
  }

  /** Rows grouped by `by`; aggregate with `agg`, or `mean`, `sum`, `count`, `min`, `max` of every other column asked. */
  groupby(by: string | readonly string[]): GroupBy {
    return new GroupBy(this, typeof by === 'string' ? [by] : [...by]);
  }

  /** How often each value of `column` occurs, most frequent first: columns `column` and `count`. */
  valueCounts(column: string): FrameItem {
    return this.aggregate('value-counts', [column], [[column, 'count']], ['count'], true);
  }

  /** @internal A tree reduction of group partials: the grouped result as one frame. */
  aggregate(op: string, by: readonly string[], aggs: ReadonlyArray<readonly [string, Agg]>, sortBy: readonly string[] | null, descending: boolean): FrameItem {
    const token = this.token(op, JSON.stringify(by), JSON.stringify(aggs));
    const tasks: Graph = {};
    let level = Array.from({ length: this.npartitions }, (_, i) => {
      const key = `${op}-part-${token}-${i}`;
      tasks[key] = [ops.groupPartial, this.steps, [...by], aggs, this.parts[i]];
      return key;
    });
    for (let depth = 0; level.length > 1; depth++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += SPLIT_EVERY) {
        const key = `${op}-combine-${token}-${depth}-${i / SPLIT_EVERY}`;
        tasks[key] = [ops.groupCombine, [...by], aggs, ...level.slice(i, i + SPLIT_EVERY)];
        next.push(key);
      }
      level = next;
    }
    // one partition: its partials still need combining (a sum of one count is the count)
    if (this.npartitions === 1) {
      const key = `${op}-combine-${token}-0-0`;
      tasks[key] = [ops.groupCombine, [...by], aggs, level[0]!];
      level = [key];
    }
    const key = `${op}-${token}`;
    tasks[key] = [ops.groupFinish, [...by], aggs, sortBy, descending, level[0]!];
    return new FrameItem(merged(this.source, tasks), key);
  }

  /** The first `n` rows (of the first partition, as Dask's head). */
  head(n = 5): FrameItem {
    const key = `head-${this.token(n)}`;
    return new FrameItem(merged(this.source, { [key]: [ops.headOf, this.steps, n, this.parts[0]] }), key);
  }

  /** count, mean, std, min and max of each numeric column, one row per statistic. */
  describe(): FrameItem {
    const token = this.token('describe');
    const tasks: Graph = {};
    const parts = Array.from({ length: this.npartitions }, (_, i) => {
      const key = `describe-part-${token}-${i}`;
      tasks[key] = [ops.describePartial, this.steps, this.parts[i]];
      return key;
    });
    const key = `describe-${token}`;
    tasks[key] = [ops.describeFinish, ...parts];
    return new FrameItem(merged(this.source, tasks), key);
  }

  /**
   * Rows of this frame and `other` with equal `on` columns, as a join: both sides shuffled into
   * `npartitions` hash partitions of the key (the larger side's count by default), each pair joined.
   */
  merge(other: DataFrame, options: { on: string | readonly string[]; how?: 'inner' | 'left' | 'outer'; npartitions?: number }): DataFrame {
    const on = typeof options.on === 'string' ? [options.on] : [...options.on];
    const how = options.how ?? 'inner';
    const n = options.npartitions ?? Math.max(this.npartitions, other.npartitions);
    const token = this.token(other.name, JSON.stringify(on), how, n);
    const tasks: Graph = {};
    const shards = (side: 'left' | 'right', frame: DataFrame): string[] => {
      const { steps, parts } = frame.inputs();
      return parts.map((part, i) => {
        const key = `merge-shard-${side}-${token}-${i}`;
        tasks[key] = [ops.shardFrame, steps, on, n, part];
        return key;
      });
    };
    const left = shards('left', this);
    const right = shards('right', other);
    const name = `merge-${token}`;
    for (let i = 0; i < n; i++) {
      const pick = (key: string, j: number, side: string) => {
        const k = `merge-pick-${side}-${token}-${j}-${i}`;
        tasks[k] = [ops.pickShard, i, key];
        return k;
      };
      tasks[`${name}-${i}`] = [ops.joinShards, on, how, left.length, ...left.map((k, j) => pick(k, j, 'left')), ...right.map((k, j) => pick(k, j, 'right'))];
    }
    return new DataFrame(merged(this.source, other.source, tasks), name, n);
  }

  /** The pending steps and the partitions' inputs (for operations that fuse them into their own tasks). */
  protected inputs(): { steps: readonly Step[]; parts: readonly unknown[] } {
    return { steps: this.steps, parts: this.parts };
  }

  /** Writes each partition as a CSV file: `pattern` with its `*` replaced by the partition's number. The item's value is the paths. */
  toCsv(pattern: string): { graph: Readonly<Graph>; key: string; compute(options?: ComputeOptions): Promise<string[]> } {
    if (!pattern.includes('*')) throw new TypeError(`toCsv(${JSON.stringify(pattern)}): the pattern needs a * for the partition's number (out/part-*.csv)`);
    const token = this.token(pattern);
    const tasks: Graph = {};
    const written = Array.from({ length: this.npartitions }, (_, i) => {
      const key = `to-csv-${token}-${i}`;
      tasks[key] = [ops.writeCsv, resolve(pattern.replace('*', String(i))), this.steps, this.parts[i]];
      return key;
    });
    const key = `to-csv-${token}`;
    tasks[key] = [ops.listOf, ...written];
    const graph = merged(this.source, tasks);
    return { graph, key, compute: (options) => get(graph, key, options) as Promise<string[]> };
  }
}

export class GroupBy {
  constructor(
    readonly frame: DataFrame,
    readonly by: readonly string[],
  ) {}

  /** Aggregates per column: `agg({ value: 'mean', n: 'sum' })`, or a list of them per column. */
  agg(spec: Record<string, Agg | readonly Agg[]>): FrameItem {
    const aggs = Object.entries(spec).flatMap(([column, a]) => (typeof a === 'string' ? [[column, a] as const] : a.map((x) => [column, x] as const)));
    return this.frame.aggregate('groupby', this.by, aggs, null, false);
  }

  #all(agg: Agg, columns: readonly string[]): FrameItem {
    if (columns.length === 0) throw new TypeError(`groupby(${JSON.stringify(this.by)}).${agg}(): name the columns to aggregate (${agg}('value', …))`);
    return this.agg(Object.fromEntries(columns.map((c) => [c, agg])));
  }

  mean(...columns: string[]): FrameItem {
    return this.#all('mean', columns);
  }
  sum(...columns: string[]): FrameItem {
    return this.#all('sum', columns);
  }
  count(...columns: string[]): FrameItem {
    return this.#all('count', columns);
  }
  min(...columns: string[]): FrameItem {
    return this.#all('min', columns);
  }
  max(...columns: string[]): FrameItem {
    return this.#all('max', columns);
  }
}

/** A dataframe of plain row objects, in `npartitions` partitions. */
export function fromRecords(records: ReadonlyArray<Record<string, unknown>>, options: { npartitions?: number } = {}): DataFrame {
  const pl = ops.polars();
  const n = Math.max(1, Math.min(options.npartitions ?? 1, records.length || 1));
  const size = Math.ceil(records.length / n);
  const name = `from-records-${tokenize([JSON.stringify(records), n])}`;
  const graph: Graph = {};
  for (let i = 0; i < n; i++) graph[`${name}-${i}`] = [ops.unquote, new Map([[0, ops.toBytes(pl.DataFrame(records.slice(i * size, (i + 1) * size) as Array<Record<string, unknown>>))]])];
  return new DataFrame(graph, name, n);
}

/**
 * CSV files (a glob or paths) as a dataframe: one partition per file, or per `blocksize` bytes of a
 * file (a row crossing a block's end belongs to that block). The header is read here, and the
 * column types from the start of the first file, so every partition has the same types.
 */
export async function readCsv(paths: string | readonly string[], options: { blocksize?: number | string } = {}): Promise<DataFrame> {
  const files = await matchFiles(paths, 'readCsv');
  const blocksize = options.blocksize === undefined ? undefined : parseSize(options.blocksize);
  // the header and a sample of the first file: the columns' types for every partition
  const sample = readStart(files[0]!, 1 << 20);
  const headerEnd = sample.indexOf(10);
  const header = (headerEnd < 0 ? sample : sample.subarray(0, headerEnd)).toString('utf8').replace(/\r$/, '');
  const lastLine = sample.lastIndexOf(10);
  const pl = ops.polars();
  const typed = pl.readCSV(lastLine > headerEnd ? sample.subarray(0, lastLine + 1) : sample, { hasHeader: true });
  const schema = typed.columns.map((c) => [c, ops.typeName(typed.getColumn(c).dtype)] as const);
  const stats = files.map((file) => statSync(file));
  const blocks = files.flatMap((file, i): ops.CsvBlock[] => {
    const bodyStart = i === 0 ? headerEnd + 1 : readStart(file, 1 << 16).indexOf(10) + 1;
    return blockRanges(bodyStart, stats[i]!.size, blocksize).map(([start, end]) => [file, start, end, header, schema]);
  });
  const name = `read-csv-${tokenize([blocks.map(([f, s, e]) => `${f}:${s}:${e}`).join('|'), stats.map((s) => s.mtimeMs)])}`;
  return new DataFrame({}, name, blocks.length, [], 'read-csv', blocks.map((block) => new Map([[0, block]])));
}

function readStart(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

