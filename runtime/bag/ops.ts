/**
 * The task functions of bags (bag/index.ts): each takes partitions (arrays) and the user's
 * functions as arguments, and returns a partition or a partial result. Exported, so every
 * scheduler's workers import them by module and name, as they import yours (this module is the
 * package's `bagOps` entry).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { blockBytes } from '../collections/blocks.js';
import { dirname } from 'node:path';
import { once } from 'node:events';

type Fn<A extends unknown[], R> = (...args: A) => R;

/**
 * Item steps a bag applies lazily, fused into the one task that needs their output (a partition
 * made, a count, frequencies …): each item flows through all of them in one pass, and no array is
 * made between steps (as Dask's bag chains iterators).
 */
export type Step = readonly ['map', Fn<[unknown], unknown>] | readonly ['filter', Fn<[unknown], unknown>] | readonly ['flatten'] | readonly ['pluck', string | number];

type Sink = (item: unknown) => void;

/** A function that puts an item through `steps`, then into `sink`. */
function through(steps: readonly Step[], sink: Sink): Sink {
  let next = sink;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    const after = next;
    switch (step[0]) {
      case 'map': {
        const fn = step[1];
        next = (x) => after(fn(x));
        break;
      }
      case 'filter': {
        const fn = step[1];
        next = (x) => {
          if (fn(x)) after(x);
        };
        break;
      }
      case 'flatten':
        next = (x) => {
          if (Array.isArray(x)) for (let j = 0; j < x.length; j++) after(x[j]);
          else for (const y of x as Iterable<unknown>) after(y);
        };
        break;
      case 'pluck': {
        const field = step[1];
        next = (x) => after((x as Record<string | number, unknown>)[field]);
        break;
      }
    }
  }
  return next;
}

/** A block of a text file (readText): its lines, read there, are the partition's items. */
type Block = ReadonlyMap<0, readonly [path: string, start: number, end: number | null]>;
/** What a partition's task takes: the partition (an array), or a block of a file to read. */
type Part = readonly unknown[] | Block;

async function each(steps: readonly Step[], part: Part, sink: Sink): Promise<void> {
  const f = through(steps, sink);
  if (!Array.isArray(part)) {
    const [path, start, end] = (part as Block).get(0)!;
    return eachLine(path, start, end, f);
  }
  const items = part as readonly unknown[];
  for (let i = 0; i < items.length; i++) f(items[i]);
}

/** A partition through `steps`: the new partition. */
export async function pipeline(steps: readonly Step[], part: Part): Promise<unknown[]> {
  const out: unknown[] = [];
  await each(steps, part, (x) => out.push(x));
  return out;
}

/** How many items come out of `steps`. */
export async function countThrough(steps: readonly Step[], part: Part): Promise<number> {
  let n = 0;
  await each(steps, part, () => n++);
  return n;
}

export async function sumThrough(steps: readonly Step[], part: Part): Promise<number> {
  let s = 0;
  await each(steps, part, (x) => (s += x as number));
  return s;
}

export async function frequenciesThrough(steps: readonly Step[], part: Part): Promise<Map<unknown, number>> {
  const counts = new Map<unknown, number>();
  await each(steps, part, (x) => counts.set(x, (counts.get(x) ?? 0) + 1));
  return counts;
}

export async function distinctThrough(steps: readonly Step[], part: Part): Promise<Set<unknown>> {
  const seen = new Set<unknown>();
  await each(steps, part, (x) => seen.add(x));
  return seen;
}

export async function foldThrough(steps: readonly Step[], key: Fn<[unknown], unknown>, binop: Fn<[unknown, unknown], unknown>, initial: unknown, part: Part): Promise<Map<unknown, unknown>> {
  const acc = new Map<unknown, unknown>();
  await each(steps, part, (x) => {
    const k = key(x);
    acc.set(k, binop(acc.has(k) ? acc.get(k) : initial, x));
  });
  return acc;
}

export async function groupThrough(steps: readonly Step[], key: Fn<[unknown], unknown>, part: Part): Promise<Map<unknown, unknown[]>> {
  const groups = new Map<unknown, unknown[]>();
  await each(steps, part, (x) => {
    const k = key(x);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(x);
  });
  return groups;
}

/** A partition given as data: held in a Map so the graph does not read its strings as keys. */
export function unquote<T>(held: ReadonlyMap<0, T[]>): T[] {
  return held.get(0)!;
}

export async function mapPartitionsWith<T, U>(fn: Fn<[T[]], Iterable<U> | Promise<Iterable<U>>>, part: T[]): Promise<U[]> {
  return Array.from(await fn(part));
}

/** The partitions, one after the other. */
export function concatPartitions<T>(...parts: ReadonlyArray<readonly T[]>): T[] {
  return ([] as T[]).concat(...parts);
}

export function listOf<T>(...xs: T[]): T[] {
  return xs;
}

export function sumValues(...xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export function mergeFrequencies<T>(...partials: ReadonlyArray<ReadonlyMap<T, number>>): Map<T, number> {
  const total = new Map<T, number>();
  for (const counts of partials) for (const [k, n] of counts) total.set(k, (total.get(k) ?? 0) + n);
  return total;
}

export function entriesOf<K, V>(map: ReadonlyMap<K, V>): Array<[K, V]> {
  return [...map];
}

/** foldby, across partitions: each key's partial folds combined with `combine` from `initial`. */
export function combineFolds<K, V>(combine: Fn<[V, V], V>, initial: V, ...partials: ReadonlyArray<ReadonlyMap<K, V>>): Map<K, V> {
  const acc = new Map<K, V>();
  for (const partial of partials) for (const [k, v] of partial) acc.set(k, combine(acc.has(k) ? acc.get(k)! : initial, v));
  return acc;
}

export function mergeGroups<K, T>(...partials: ReadonlyArray<ReadonlyMap<K, T[]>>): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const partial of partials) {
    for (const [k, items] of partial) {
      const g = groups.get(k);
      if (g === undefined) groups.set(k, [...items]);
      else for (const x of items) g.push(x);
    }
  }
  return groups;
}

/** The entries of `map` whose key hashes to shard `i` of `n`: a shuffled bag's partition. */
export function shardOf<K, V>(i: number, n: number, map: ReadonlyMap<K, V>): Array<[K, V]> {
  const out: Array<[K, V]> = [];
  for (const entry of map) if (hashKey(entry[0]) % n === i) out.push(entry);
  return out;
}

function hashKey(value: unknown): number {
  const text = typeof value === 'string' ? value : `${typeof value}:${JSON.stringify(value) ?? String(value)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function mergeDistinct<T>(...sets: ReadonlyArray<ReadonlySet<T>>): Set<T> {
  const all = new Set<T>();
  for (const s of sets) for (const x of s) all.add(x);
  return all;
}

export function valuesOf<T>(set: ReadonlySet<T>): T[] {
  return [...set];
}

/** The `k` largest items of a partition through `steps`. */
export async function topkThrough<T>(steps: readonly Step[], k: number, key: Fn<[T], number | string> | null, part: Part): Promise<T[]> {
  return topkPartition(k, key, (await pipeline(steps, part)) as T[]);
}

/** The `k` largest items (by `key`, or by the items themselves), largest first. */
export function topkPartition<T>(k: number, key: Fn<[T], number | string> | null, ...parts: ReadonlyArray<readonly T[]>): T[] {
  const by = key ?? ((x: T) => x as unknown as number | string);
  const all = ([] as T[]).concat(...parts);
  return all
    .map((x) => [by(x), x] as const)
    .sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
    .slice(0, k)
    .map(([, x]) => x);
}

/** A user's reduction: `perPartition` on a partition. */
export async function applyToPartition<T, U>(fn: Fn<[T[]], U | Promise<U>>, part: T[]): Promise<U> {
  return await fn(part);
}

/** A user's reduction: `aggregate` on the partials, as an array. */
export async function aggregatePartials<U, R>(fn: Fn<[U[]], R | Promise<R>>, ...partials: U[]): Promise<R> {
  return await fn(partials);
}

/** Each line of a block of `path` (collections/blocks.ts), without its line ending, to `take`, read as a stream. */
async function eachLine(path: string, start: number, end: number | null, take: (line: string) => void): Promise<void> {
  const emit = (line: Buffer): void => {
    const text = line.toString('utf8');
    take(text.endsWith('\r') ? text.slice(0, -1) : text);
  };
  let pending: Buffer[] = [];
  for await (const chunk of blockBytes(path, start, end)) {
    let at = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, at)) {
      const piece = chunk.subarray(at, nl);
      emit(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      at = nl + 1;
    }
    if (at < chunk.length) pending.push(chunk.subarray(at));
  }
  // the last line, without a newline at the end of the file
  if (pending.length > 0) emit(Buffer.concat(pending));
}

/** Writes a partition's items as lines of text to `path` (folders made), streamed; returns the path. */
export async function writeLines(path: string, part: readonly unknown[]): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  for (const x of part) if (!out.write(`${String(x)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return path;
}
