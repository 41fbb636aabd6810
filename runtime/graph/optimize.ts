/**
 * `optimize`: the graph `compute` schedules (Dask's `optimize_graph`), rewritten before it runs:
 *
 * - **culled** to what the wanted keys need;
 * - **cheap constants inlined**: a key whose value is a number, a boolean, a bigint or null is
 *   written into the tasks that name it, and is no task of its own;
 * - **linear chains fused**: a task whose only dependency has no other dependent takes that
 *   dependency's task inside it (`[c, [b, [a, 1]]]` under the key of the last link), so a chain
 *   of n calls is one task, one hand-over to a worker.
 *
 *     a ─▶ b ─▶ c        optimize(graph, ['c']) = { c: [fc, [fb, [fa, 1]]] }
 *
 * Wanted keys are never fused away nor inlined. Not used on the distributed scheduler, which
 * keeps results by key across graphs (a persisted key fused away would be computed again). `compute(..., { optimizeGraph: false })` (or the
 * `optimizeGraph` config key) schedules the graph as it was built; `get` never rewrites a graph,
 * and the debugger steps graph files task by task, unfused.
 */
import { cull, type NestedKeyList } from './cull.js';
import { compileGraph, dependencyKeys } from './compile.js';
import { type Graph, type Key, isTask } from './spec.js';
import { type Visitor, forEachKey, mapValue } from './walk.js';
import { postorder } from './toposort.js';

export interface OptimizeOptions {
  /** Fuse linear chains into one task (default true). */
  readonly fuse?: boolean;
  /** Write cheap constants into the tasks that use them (default true). */
  readonly inlineConstants?: boolean;
  /**
   * Cull to what the keys need first (default true). `compute` passes false: the graph it merges
   * from its delayed values holds only what they need already.
   */
  readonly cull?: boolean;
}

/** Replaces the references to keys in `ctx` by their values. */
const SUBSTITUTE: Visitor<ReadonlyMap<Key, unknown>> = {
  tasks: true,
  leaf: (value, values) => (typeof value === 'string' && values.has(value) ? values.get(value) : value),
};

/** Most links fused into one task: a chain of 20,000 calls is 313 tasks, each nested 64 deep at most. */
const MAX_FUSED = 64;

const OPTIMIZED = (): readonly [string, string] => ['optimize()', 'value'];

function isConstant(value: unknown): boolean {
  return value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/** The optimized graph for `keys` (a key, or lists of keys nested as `get` takes them). */
export function optimize(graph: Graph, keys: Key | NestedKeyList, options: OptimizeOptions = {}): Map<Key, unknown> {
  const wanted = new Set((typeof keys === 'string' ? [keys] : keys).flat(Infinity as 1) as Key[]);
  const dsk = options.cull === false ? new Map(graph instanceof Map ? graph : Object.entries(graph)) : cull(graph, keys);
  if (options.inlineConstants !== false) {
    const constants = new Map<Key, unknown>();
    for (const [k, v] of dsk) if (!wanted.has(k) && isConstant(v)) constants.set(k, v);
    if (constants.size > 0) {
      for (const k of constants.keys()) dsk.delete(k);
      for (const [k, v] of dsk) dsk.set(k, mapValue(v, SUBSTITUTE, constants, OPTIMIZED));
    }
  }
  if (options.fuse === false) return dsk;
  const g = compileGraph(dsk);
  const dependentCount = new Map<Key, number>();
  for (let t = 0; t < g.size; t++) dependentCount.set(g.keys[t]!, g.dependentStart[t + 1]! - g.dependentStart[t]!);
  const fusedAway = new Set<Key>();
  /** Links fused into each key so far: a chain is cut every MAX_FUSED links (nesting stays shallow). */
  const links = new Map<Key, number>();
  // dependencies first: a link takes in its predecessor after that one took in its own
  for (const t of postorder(g).order) {
    const key = g.keys[t]!;
    const value = dsk.get(key);
    if (!isTask(value)) continue;
    const deps = dependencyKeys(g, t);
    if (deps.length !== 1) continue;
    const dep = deps[0]!;
    if (wanted.has(dep) || dependentCount.get(dep) !== 1 || !isTask(dsk.get(dep))) continue;
    // named once: a task that reads its input twice would compute a fused one twice
    let uses = 0;
    forEachKey(value, (s) => s === dep, () => void uses++, OPTIMIZED);
    if (uses !== 1) continue;
    const depth = (links.get(dep) ?? 1) + 1;
    if (depth > MAX_FUSED) continue;
    dsk.set(key, mapValue(value, SUBSTITUTE, new Map([[dep, dsk.get(dep)]]), OPTIMIZED));
    links.set(key, depth);
    fusedAway.add(dep);
  }
  for (const k of fusedAway) dsk.delete(k);
  return dsk;
}
