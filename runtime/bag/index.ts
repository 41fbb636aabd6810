/**
 * `skein/bag`: Dask's bag for TypeScript. A bag is a list of partitions (arrays) computed by a
 * graph; its methods build more graph and `compute()` runs it on any scheduler (threads by
 * default, as every compute). Nothing is scheduled here: each method adds tasks named
 * `<op>-<token>-<i>` (one per partition, `<op>-<token>` for a single result), so the panel, the
 * debugger and the recorder show them in readable groups. Reductions (count, sum, frequencies,
 * foldby, distinct, topk, reduction) combine partials in a tree, eight at a time.
 *
 * Functions given to a bag (`map((line) => line.split(' '))`) reach the workers as every task
 * function does: by module and export name, or by their source when they close over nothing
 * workers lack (a lambda that uses a local variable is refused before any task starts).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ComputeOptions, get } from '../schedule.js';
import { tokenize } from '../graph/tokenize.js';
import { registerModule } from '../loader/locate.js';
import { runtimeFile } from '../loader/register.js';
import * as ops from './ops.js';
import { blockRanges } from '../collections/blocks.js';
import { type Graph, Partitioned, SPLIT_EVERY, matchFiles, merged, parseSize } from '../collections/partitioned.js';

// the task functions are imported by workers from the package's bagOps entry (or ops.ts, run from source)
registerModule(import.meta.url.endsWith('.ts') ? new URL('./ops.ts', import.meta.url).href : runtimeFile('bagOps.js'), ops);


/** A single value computed from a bag (a count, a sum, a reduction). */
export class Item<T> {
  constructor(
    /** The tasks that compute it. */
    readonly graph: Readonly<Graph>,
    readonly key: string,
  ) {}

  /** Runs the graph (options as `get`'s: scheduler, numWorkers, callbacks …) and resolves to the value. */
  compute(options?: ComputeOptions): Promise<T> {
    return get(this.graph, this.key, options) as Promise<T>;
  }

  /** A new item: `fn` applied to this one's value. */
  apply<U>(fn: (value: T) => U): Item<U> {
    const key = `apply-${tokenize([this.key, fn])}`;
    return new Item<U>(merged(this.graph, { [key]: [fn, this.key] }), key);
  }
}

export class Bag<T> extends Partitioned<ops.Step> {
  constructor(graph: Readonly<Graph>, name: string, npartitions: number, steps: readonly ops.Step[] = [], label = '', parts?: readonly unknown[]) {
    super(graph, name, npartitions, steps, label, parts);
  }

  protected get pipeline(): Function {
    return ops.pipeline;
  }

  /** Runs the graph and resolves to every item, partition after partition. */
  async compute(options?: ComputeOptions): Promise<T[]> {
    const key = `concat-${tokenize([this.name])}`;
    return (await get(merged(this.graph, { [key]: [ops.concatPartitions, ...this.keys] }), key, options)) as T[];
  }

  /** The partitions as they are (arrays), for a look at how the bag is split. */
  async computePartitions(options?: ComputeOptions): Promise<T[][]> {
    return (await get(this.graph, this.keys, options)) as T[][];
  }

  #step<U>(label: string, step: ops.Step): Bag<U> {
    return new Bag<U>(this.source, this.sourceName, this.npartitions, [...this.steps, step], label, this.readsFiles ? this.parts : undefined);
  }

  /** Each item through `fn`. */
  map<U>(fn: (item: T) => U): Bag<U> {
    return this.#step(opName('map', fn), ['map', fn as (x: unknown) => unknown]);
  }

  /** The items `predicate` holds for. */
  filter(predicate: (item: T) => unknown): Bag<T> {
    return this.#step(opName('filter', predicate), ['filter', predicate as (x: unknown) => unknown]);
  }

  /** Items that are lists (or any iterable) become their elements. */
  flatten(): Bag<T extends Iterable<infer U> ? U : never> {
    return this.#step('flatten', ['flatten']);
  }

  /** The field `field` of each item. */
  pluck<K extends keyof T>(field: K & (string | number)): Bag<T[K]> {
    return this.#step('pluck', ['pluck', field]);
  }

  /** `fn` on each whole partition (an array), returning the new partition (any iterable). */
  mapPartitions<U>(fn: (partition: T[]) => Iterable<U> | Promise<Iterable<U>>): Bag<U> {
    const name = `${opName('map-partitions', fn)}-${tokenize([this.name, fn])}`;
    const tasks: Graph = {};
    this.keys.forEach((part, i) => (tasks[`${name}-${i}`] = [ops.mapPartitionsWith, fn, part]));
    return new Bag<U>(merged(this.graph, tasks), name, this.npartitions);
  }

  /**
   * A tree reduction: `first` (with the pending steps, then the source partition) on each
   * partition, then `combine(...partials)` over at most SPLIT_EVERY partials per task, until one
   * is left; `finish` on it if given.
   */
  #tree<R>(op: string, first: unknown[], combine: unknown[], finish?: unknown[]): Item<R> {
    const token = this.token(op, ...first, ...combine, ...(finish ?? []));
    const tasks: Graph = {};
    let level = Array.from({ length: this.npartitions }, (_, i) => {
      const key = `${op}-part-${token}-${i}`;
      tasks[key] = [first[0], this.steps, ...first.slice(1), this.parts[i]];
      return key;
    });
    for (let depth = 0; level.length > 1; depth++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += SPLIT_EVERY) {
        const key = `${op}-combine-${token}-${depth}-${i / SPLIT_EVERY}`;
        tasks[key] = [...combine, ...level.slice(i, i + SPLIT_EVERY)];
        next.push(key);
      }
      level = next;
    }
    const key = `${op}-${token}`;
    tasks[key] = finish === undefined ? [...combine, level[0]!] : [...finish, level[0]!];
    return new Item<R>(merged(this.source as Graph, tasks), key);
  }

  /** How many items. */
  count(): Item<number> {
    return this.#tree('count', [ops.countThrough], [ops.sumValues]);
  }

  /** The sum of the items (numbers). */
  sum(): Item<number> {
    return this.#tree('sum', [ops.sumThrough], [ops.sumValues]);
  }

  /** A reduction of your own: `perPartition` on each partition, `aggregate` on the array of their results. */
  reduction<P, R>(perPartition: (partition: T[]) => P | Promise<P>, aggregate: (partials: P[]) => R | Promise<R>): Item<Awaited<R>> {
    const token = tokenize([this.name, perPartition, aggregate]);
    const name = opName('reduction', perPartition);
    const tasks: Graph = {};
    const parts = this.keys.map((part, i) => {
      const key = `${name}-part-${token}-${i}`;
      tasks[key] = [ops.applyToPartition, perPartition, part];
      return key;
    });
    const key = `${name}-${token}`;
    tasks[key] = [ops.aggregatePartials, aggregate, ...parts];
    return new Item(merged(this.graph, tasks), key);
  }

  /** Each distinct item and how often it occurs, as [item, count] pairs, in one partition. */
  frequencies(): Bag<[T, number]> {
    return this.#single(this.#tree('frequencies', [ops.frequenciesThrough], [ops.mergeFrequencies], [ops.entriesOf]));
  }

  /**
   * Folds the items of each key: `binop(acc, item)` from `initial` within a partition, then
   * `combine(acc, partial)` from `combineInitial` across them; [key, value] pairs, one partition.
   */
  foldby<K, V>(key: (item: T) => K, binop: (acc: V, item: T) => V, initial: V, combine?: (a: V, b: V) => V, combineInitial?: V): Bag<[K, V]> {
    const across = combine ?? (binop as unknown as (a: V, b: V) => V);
    return this.#single(this.#tree('foldby', [ops.foldThrough, key, binop, initial], [ops.combineFolds, across, combineInitial ?? initial], [ops.entriesOf]));
  }

  /** The items of each key, as [key, items] pairs, spread over `npartitions` partitions (this bag's by default) by the key's hash. */
  groupby<K>(key: (item: T) => K, options: { npartitions?: number } = {}): Bag<[K, T[]]> {
    const groups = this.#tree<Map<K, T[]>>('groupby', [ops.groupThrough, key], [ops.mergeGroups]);
    const n = options.npartitions ?? this.npartitions;
    const name = `groupby-shard-${tokenize([groups.key, n])}`;
    const tasks: Graph = {};
    for (let i = 0; i < n; i++) tasks[`${name}-${i}`] = [ops.shardOf, i, n, groups.key];
    return new Bag(merged(groups.graph, tasks), name, n);
  }

  /** Each item once (by SameValueZero, as a Set), in one partition. */
  distinct(): Bag<T> {
    return this.#single(this.#tree('distinct', [ops.distinctThrough], [ops.mergeDistinct], [ops.valuesOf]));
  }

  /** The `k` largest items (by `key` when given), largest first, in one partition. */
  topk(k: number, key?: (item: T) => number | string): Bag<T> {
    return this.#single(this.#tree('topk', [ops.topkThrough, k, key ?? null], [ops.topkPartition, k, key ?? null]));
  }

  /** A one-partition bag whose partition is `item`'s value (an array). */
  #single<U>(item: Item<unknown>): Bag<U> {
    const name = `${item.key}-bag`;
    return new Bag<U>(merged(item.graph, { [`${name}-0`]: [ops.concatPartitions, item.key] }), name, 1);
  }

  /**
   * Writes each partition to a text file, one item a line: `pattern` with its `*` replaced by the
   * partition's number (`out/part-*.txt`). The item's value is the paths written.
   */
  toTextFiles(pattern: string): Item<string[]> {
    if (!pattern.includes('*')) throw new TypeError(`toTextFiles(${JSON.stringify(pattern)}): the pattern needs a * for the partition's number (out/part-*.txt)`);
    const token = tokenize([this.name, pattern]);
    const tasks: Graph = {};
    const written = this.keys.map((part, i) => {
      const key = `to-text-files-${token}-${i}`;
      tasks[key] = [ops.writeLines, resolve(pattern.replace('*', String(i))), part];
      return key;
    });
    const key = `to-text-files-${token}`;
    tasks[key] = [ops.listOf, ...written];
    return new Item(merged(this.graph, tasks), key);
  }
}

/** A key group's name for an op with a user function: the function's name when it has one (`map-words`). */
function opName(op: string, fn: Function): string {
  const name = fn.name.replace(/[^A-Za-z0-9_]/g, '');
  return name === '' ? op : `${op}-${name}`;
}

/** A bag of `items`, in `npartitions` partitions (or of `partitionSize` items each; by default about 100 partitions at most). */
export function fromSequence<T>(items: Iterable<T>, options: { npartitions?: number; partitionSize?: number } = {}): Bag<T> {
  const all = [...items];
  const size = options.partitionSize ?? Math.max(1, Math.ceil(all.length / (options.npartitions ?? Math.min(100, Math.max(1, all.length)))));
  const name = `from-sequence-${tokenize([all, size])}`;
  const graph: Graph = {};
  let n = 0;
  for (let at = 0; at < all.length || n === 0; at += size) graph[`${name}-${n++}`] = [ops.unquote, new Map([[0, all.slice(at, at + size)]])];
  return new Bag<T>(graph, name, n);
}

/**
 * The lines of text files (without their line endings), from a glob (`data/*.txt`) or a list of
 * paths, in the files' order: one partition per file, or per `blocksize` bytes of a file (a line
 * crossing a block's end belongs to that block). Files are read by the workers, as streams.
 */
export async function readText(paths: string | readonly string[], options: { blocksize?: number | string } = {}): Promise<Bag<string>> {
  const files = await matchFiles(paths, 'readText');
  const blocksize = options.blocksize === undefined ? undefined : parseSize(options.blocksize);
  const stats = files.map((file) => statSync(file));
  const blocks = files.flatMap((file, i) => blockRanges(0, stats[i]!.size, blocksize).map(([start, end]) => [file, start, end] as const));
  const name = `read-text-${tokenize([blocks.map(([f, s, e]) => `${f}:${s}:${e}`).join('|'), stats.map((s) => s.mtimeMs)])}`;
  // each block read by the task that takes it (in a Map, which the graph keeps as data)
  return new Bag<string>({}, name, blocks.length, [], 'read-text', blocks.map((block) => new Map([[0, block]])));
}

