/**
 * What bags and dataframes share: a list of partitions computed by a graph, with steps not yet
 * in any task (fused into the task that takes the partition), made into one task per partition
 * only when something needs the partitions themselves; and the helpers both use to read files in
 * blocks.
 */
import { resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { tokenize } from '../graph/tokenize.js';

export type Graph = Record<string, unknown>;

/** Reductions combine this many partials per task. */
export const SPLIT_EVERY = 8;

export function merged(...graphs: Array<Readonly<Graph>>): Graph {
  return Object.assign({}, ...graphs) as Graph;
}

export abstract class Partitioned<Step> {
  protected readonly source: Readonly<Graph>;
  protected readonly sourceName: string;
  /**
   * What each partition's task takes: the key of a partition in `source` (`${name}-${i}`), or a
   * block of a file to read there (in a Map, which the graph keeps as data).
   */
  protected readonly parts: readonly unknown[];
  /** The partitions are blocks of files, read by the tasks that take them. */
  protected readonly readsFiles: boolean;
  /** Steps not yet in any task: fused into the task that takes the partition. */
  protected readonly steps: readonly Step[];
  /** The name of the last step (the key group of the partitions once made). */
  protected readonly label: string;
  #made: { graph: Graph; name: string } | undefined;

  constructor(graph: Readonly<Graph>, name: string, readonly npartitions: number, steps: readonly Step[], label: string, parts: readonly unknown[] | undefined) {
    this.source = graph;
    this.sourceName = name;
    this.steps = steps;
    this.label = label;
    this.parts = parts ?? Array.from({ length: npartitions }, (_, i) => `${name}-${i}`);
    this.readsFiles = parts !== undefined;
  }

  /** The task function that puts a partition through the steps: `[pipeline, steps, part]`. */
  protected abstract get pipeline(): Function;

  /** The tasks that compute the partitions (the pending steps made into one task per partition). */
  get graph(): Readonly<Graph> {
    return this.#make().graph;
  }

  /** The partitions' key prefix: partition i is `${name}-${i}`. */
  get name(): string {
    return this.#make().name;
  }

  /** The keys of the partitions. */
  get keys(): string[] {
    const name = this.name;
    return Array.from({ length: this.npartitions }, (_, i) => `${name}-${i}`);
  }

  #make(): { graph: Graph; name: string } {
    if (this.#made !== undefined) return this.#made;
    if (this.steps.length === 0 && !this.readsFiles) return (this.#made = { graph: this.source as Graph, name: this.sourceName });
    const name = `${this.label}-${this.token()}`;
    const tasks: Graph = {};
    for (let i = 0; i < this.npartitions; i++) tasks[`${name}-${i}`] = [this.pipeline, this.steps, this.parts[i]];
    return (this.#made = { graph: merged(this.source, tasks), name });
  }

  /** A token of the source and the steps, and of `more`. */
  protected token(...more: unknown[]): string {
    return tokenize([this.sourceName, ...this.steps, ...more]);
  }
}

/** The files a glob (`data/*.txt`) or a list of paths names, sorted; an error naming the call when none. */
export async function matchFiles(paths: string | readonly string[], call: string): Promise<string[]> {
  const files = typeof paths === 'string' ? (/[*?[{]/.test(paths) ? (await glob(paths, { absolute: true, onlyFiles: true })).sort() : [resolve(paths)]) : paths.map((p) => resolve(p));
  if (files.length === 0) throw new Error(`${call}(${JSON.stringify(paths)}): no file matches`);
  return files;
}

/** Bytes from `64MB`, `128 KiB`, or a number. */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') return size;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$/i.exec(size);
  if (m === null) throw new TypeError(`blocksize ${JSON.stringify(size)}: give bytes, or a size such as "64MB"`);
  const unit = m[2]!.toLowerCase().replace(/b$/, '');
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4, ki: 1, mi: 2, gi: 3, ti: 4 }[unit] ?? 0;
  return Math.floor(Number(m[1]) * (unit.endsWith('i') ? 1024 : 1000) ** power);
}
