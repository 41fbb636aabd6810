/**
 * The compiled graph: keys numbered 0..n-1 in insertion order, dependencies and dependents in
 * compressed sparse rows (`deps[depStart[i] .. depStart[i+1]]`). The scheduling core, `order`,
 * `toposort` and `cull` work on this form, so a run does one string-keyed pass over the graph
 * and then only integer array access: that is what keeps the core under a microsecond per task
 * for graphs of a million keys.
 */
import { type Graph, type Key, describeValue, isTask, toDsk } from './spec.js';
import { type Visitor, type Where, forEachKey, scanValue } from './walk.js';

const COMPILED = Symbol('skein.compiledGraph');

/** True for a graph `compileGraph` made (so `get` runs it without compiling it again). */
export function isCompiledGraph(value: unknown): value is CompiledGraph {
  return value !== null && typeof value === 'object' && (value as { [COMPILED]?: boolean })[COMPILED] === true;
}

export interface CompiledGraph {
  /** Marks a graph compileGraph made. */
  readonly [COMPILED]: true;
  readonly size: number;
  readonly keys: readonly Key[];
  readonly index: ReadonlyMap<Key, number>;
  readonly values: readonly unknown[];
  readonly depStart: Int32Array;
  readonly deps: Int32Array;
  readonly dependentStart: Int32Array;
  readonly dependents: Int32Array;
}

class IntList {
  data = new Int32Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

interface EdgeContext {
  readonly index: ReadonlyMap<Key, number>;
  /** stamp[d] === current: d already recorded for the task being walked */
  readonly stamp: Int32Array;
  readonly edges: IntList;
  current: number;
}

/** Records each key a graph value names once, as an edge of the task being walked. */
const RECORD_EDGES: Visitor<EdgeContext> = {
  tasks: true,
  leaf(value, ctx) {
    if (typeof value !== 'string') return;
    const d = ctx.index.get(value);
    if (d !== undefined && ctx.stamp[d] !== ctx.current) {
      ctx.stamp[d] = ctx.current;
      ctx.edges.push(d);
    }
  },
};

/** How a walk names the graph value of `key` in the error for a value that contains itself. */
export function ownerOf(key: Key, value: unknown): readonly [string, string] {
  return [`Task ${JSON.stringify(key)}`, isTask(value) ? 'task' : 'value'];
}

/** Numbers the keys and records every dependency edge once. */
export function compileGraph(graph: Graph): CompiledGraph {
  let keys: Key[];
  let values: unknown[];
  if (graph instanceof Map) {
    keys = [...graph.keys()];
    values = [...graph.values()];
  } else if (graph !== null && typeof graph === 'object' && !Array.isArray(graph)) {
    // Object.keys + indexing is several times faster than Object.entries on large objects
    const obj = graph as Readonly<Record<Key, unknown>>;
    keys = Object.keys(obj);
    values = new Array<unknown>(keys.length);
    for (let j = 0; j < keys.length; j++) values[j] = obj[keys[j]!];
  } else {
    throw new TypeError(`A graph must be a plain object or a Map of keys to tasks, got ${describeValue(graph)}`);
  }
  const n = keys.length;
  const index = new Map<Key, number>();
  for (let j = 0; j < n; j++) index.set(keys[j]!, j);
  const depStart = new Int32Array(n + 1);
  const edges = new IntList();
  const ctx: EdgeContext = { index, stamp: new Int32Array(n).fill(-1), edges, current: 0 };
  const where: Where = () => ownerOf(keys[ctx.current]!, values[ctx.current]);
  for (let t = 0; t < n; t++) {
    depStart[t] = edges.length;
    ctx.current = t;
    scanValue(values[t], RECORD_EDGES, ctx, where);
  }
  depStart[n] = edges.length;
  const deps = edges.data.slice(0, edges.length);

  const dependentStart = new Int32Array(n + 1);
  for (let e = 0; e < deps.length; e++) dependentStart[deps[e]! + 1]!++;
  for (let t = 0; t < n; t++) dependentStart[t + 1]! += dependentStart[t]!;
  const fill = dependentStart.slice(0, n);
  const dependents = new Int32Array(deps.length);
  for (let t = 0; t < n; t++) {
    for (let e = depStart[t]!; e < depStart[t + 1]!; e++) dependents[fill[deps[e]!]!++] = t;
  }
  return { [COMPILED]: true, size: n, keys, index, values, depStart, deps, dependentStart, dependents };
}

/**
 * The keys that `key`'s value needs, each once, in order of first appearance.
 *
 *     {x: 1, y: [inc, 'x'], z: [add, 'x', {a: ['y', 1]}], w: 'z'}
 *     getDependencies(dsk, 'z') → ['x', 'y'];  getDependencies(dsk, 'w') → ['z']
 */
export function getDependencies(graph: Graph, key: Key): Key[] {
  const dsk = toDsk(graph);
  const value = dsk.get(key);
  const out = new Set<Key>();
  forEachKey(value, (s) => dsk.has(s), (k) => out.add(k), () => ownerOf(key, value));
  return [...out];
}

/** Dependencies of task `t` as keys (for messages and callbacks, not hot paths). */
export function dependencyKeys(g: CompiledGraph, t: number): Key[] {
  const out: Key[] = [];
  for (let e = g.depStart[t]!; e < g.depStart[t + 1]!; e++) out.push(g.keys[g.deps[e]!]!);
  return out;
}

/** Dependents of task `t` as keys. */
export function dependentKeys(g: CompiledGraph, t: number): Key[] {
  const out: Key[] = [];
  for (let e = g.dependentStart[t]!; e < g.dependentStart[t + 1]!; e++) out.push(g.keys[g.dependents[e]!]!);
  return out;
}

/**
 * Marks what `wanted` (task numbers) need, transitively. Returns null when that is everything.
 */
export function neededMask(g: CompiledGraph, wanted: readonly number[]): Uint8Array | null {
  const needed = new Uint8Array(g.size);
  const stack: number[] = [];
  let count = 0;
  for (const w of wanted) {
    if (needed[w] === 0) {
      needed[w] = 1;
      count++;
      stack.push(w);
    }
  }
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (let e = g.depStart[t]!; e < g.depStart[t + 1]!; e++) {
      const d = g.deps[e]!;
      if (needed[d] === 0) {
        needed[d] = 1;
        count++;
        stack.push(d);
      }
    }
  }
  return count === g.size ? null : needed;
}

/**
 * The compiled graph seen as a read-only Map of key → graph value, without copying it: what
 * callbacks receive as `dsk` (building a real Map would cost a pass over the graph per run).
 */
export class GraphView implements ReadonlyMap<Key, unknown> {
  constructor(private readonly g: CompiledGraph) {}
  get size(): number {
    return this.g.size;
  }
  get(key: Key): unknown {
    const t = this.g.index.get(key);
    return t === undefined ? undefined : this.g.values[t];
  }
  has(key: Key): boolean {
    return this.g.index.has(key);
  }
  *keys(): MapIterator<Key> {
    yield* this.g.keys;
  }
  *values(): MapIterator<unknown> {
    yield* this.g.values;
  }
  *entries(): MapIterator<[Key, unknown]> {
    for (let t = 0; t < this.g.size; t++) yield [this.g.keys[t]!, this.g.values[t]];
  }
  [Symbol.iterator](): MapIterator<[Key, unknown]> {
    return this.entries();
  }
  forEach(fn: (value: unknown, key: Key, map: ReadonlyMap<Key, unknown>) => void, thisArg?: unknown): void {
    for (let t = 0; t < this.g.size; t++) fn.call(thisArg, this.g.values[t], this.g.keys[t]!, this);
  }
}

/** Dependencies and dependents of every key, by key. */
export interface Relations {
  readonly dependencies: Map<Key, readonly Key[]>;
  readonly dependents: Map<Key, readonly Key[]>;
}

/** Both directions of the dependency relation for the whole graph (from one compile). */
export function getRelations(graph: Graph): Relations {
  const g = compileGraph(graph);
  const dependencies = new Map<Key, readonly Key[]>();
  const dependents = new Map<Key, readonly Key[]>();
  for (let t = 0; t < g.size; t++) {
    dependencies.set(g.keys[t]!, dependencyKeys(g, t));
    dependents.set(g.keys[t]!, dependentKeys(g, t));
  }
  return { dependencies, dependents };
}

/** Keys that no other key depends on (the graph's outputs), in insertion order. */
export function outputKeys(g: CompiledGraph): Key[] {
  return g.keys.filter((_, t) => g.dependentStart[t + 1] === g.dependentStart[t]);
}
