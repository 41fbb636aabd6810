/**
 * The scheduler state: one record of named maps and sets, changed only by `finishTask` and
 * `releaseData` (both synchronous; each mutates the state and must run to completion).
 *
 * Fields (Dask's, with counts where Dask keeps sets, to stay small for million-task graphs):
 * - `dependencies`, `dependents`: fixed once the graph is built.
 * - `cache`: results held in memory (literal values of the graph start there).
 * - `waiting`: task → number of its dependencies whose results are not in memory yet.
 * - `waitingData`: key in memory → number of its dependents that have not finished yet.
 * - `ready`: tasks whose dependencies are all in memory, a LIFO stack; the next task to run is
 *   the last element. Newly ready tasks are pushed highest priority last, so the walk stays
 *   depth-first and follows the static `order`.
 * - `running`: tasks handed to an executor and not finished.
 * - `finished`: tasks that completed, in completion order.
 * - `released`: keys whose result was dropped because no dependent needs it any more.
 */
import { type Dsk, type Key, type Relations, getRelations, isTask } from '../graph/spec.js';

export interface SchedulerState {
  readonly dependencies: ReadonlyMap<Key, readonly Key[]>;
  readonly dependents: ReadonlyMap<Key, readonly Key[]>;
  readonly cache: Map<Key, unknown>;
  readonly waiting: Map<Key, number>;
  readonly waitingData: Map<Key, number>;
  readonly ready: Key[];
  readonly running: Set<Key>;
  readonly finished: Set<Key>;
  readonly released: Set<Key>;
}

/** Static priority lookup: lower runs first. */
export type Priority = ReadonlyMap<Key, number>;

/** True when a graph value has to be evaluated: a task, or a value that mentions other keys. */
function needsRun(value: unknown, deps: readonly Key[]): boolean {
  return deps.length > 0 || isTask(value);
}

/** Pushes `keys` onto the ready stack so that the one with the lowest priority is popped first. */
function pushReady(ready: Key[], keys: Key[], priority: Priority): void {
  if (keys.length > 1) keys.sort((a, b) => priority.get(b)! - priority.get(a)!);
  for (const k of keys) ready.push(k);
}

/**
 * Builds the starting state. Literal values (no task, no dependency) go straight to `cache`.
 *
 *     {x: 1, y: [inc, 'x'], z: [add, 'y', 10]}
 *     → cache {x: 1}, waiting {z: 1}, waitingData {x: 1, y: 1}, ready [y]
 */
export function startStateFromGraph(dsk: Dsk, priority: Priority, relations: Relations = getRelations(dsk)): SchedulerState {
  const { dependencies, dependents } = relations;
  const cache = new Map<Key, unknown>();
  for (const [key, value] of dsk) if (!needsRun(value, dependencies.get(key)!)) cache.set(key, value);
  const waiting = new Map<Key, number>();
  const waitingData = new Map<Key, number>();
  const ready: Key[] = [];
  for (const [key, value] of dsk) {
    const deps = dependencies.get(key)!;
    const nDependents = dependents.get(key)!.length;
    if (nDependents > 0) waitingData.set(key, nDependents);
    if (!needsRun(value, deps)) continue;
    let pending = 0;
    for (const dep of deps) if (!cache.has(dep)) pending++;
    if (pending > 0) waiting.set(key, pending);
    else ready.push(key);
  }
  pushReady([], ready, priority); // sorts in place
  return {
    dependencies,
    dependents,
    cache,
    waiting,
    waitingData,
    ready,
    running: new Set(),
    finished: new Set(),
    released: new Set(),
  };
}

/**
 * Records that `key` finished (its result must already be in `cache`): dependents whose last
 * dependency this was become ready; dependencies no one else waits for are released unless
 * they are requested results. Mutates `state`; run atomically.
 */
export function finishTask(state: SchedulerState, key: Key, results: ReadonlySet<Key>, priority: Priority): void {
  const { waiting, waitingData } = state;
  const dependents = state.dependents.get(key)!;
  let newlyReady: Key[] | undefined;
  for (const dep of dependents) {
    const n = waiting.get(dep)! - 1;
    if (n === 0) {
      waiting.delete(dep);
      if (newlyReady === undefined) newlyReady = [dep];
      else newlyReady.push(dep);
    } else waiting.set(dep, n);
  }
  if (newlyReady !== undefined) pushReady(state.ready, newlyReady, priority);
  for (const dep of state.dependencies.get(key)!) {
    const n = waitingData.get(dep)! - 1;
    if (n === 0) {
      waitingData.delete(dep);
      if (!results.has(dep)) releaseData(state, dep);
    } else waitingData.set(dep, n);
  }
  state.finished.add(key);
  state.running.delete(key);
  if (dependents.length === 0 && !results.has(key)) releaseData(state, key);
}

/** Drops `key`'s result from memory. Mutates `state`; run atomically. */
export function releaseData(state: SchedulerState, key: Key): void {
  state.cache.delete(key);
  state.released.add(key);
}
