/**
 * A compiled graph as the distributed scheduler takes it: one `TaskSpec` per key, with its graph
 * value in wire form (functions by module URL + export name, as the threads and processes
 * schedulers send them), its dependencies and its priority. Functions workers cannot import are
 * refused here, before anything is submitted, with the same messages as the local schedulers.
 */
import { Errors } from '../errors.js';
import { type CompiledGraph, dependencyKeys, ownerOf } from '../graph/compile.js';
import { describeFunction, locateFunction } from '../loader/locate.js';
import type { FnRef } from '../workers/protocol.js';
import { encodeTask, functionsIn } from '../workers/wireTasks.js';
import type { TaskSpec } from './protocol.js';

const located = new WeakMap<Function, FnRef>();

/** Where workers import `fn` from; a SkeinError naming `key` when they cannot. */
export async function refOf(fn: Function, key: string): Promise<FnRef> {
  const known = located.get(fn);
  if (known !== undefined) return known;
  const ref = await locateFunction(fn);
  if (ref === undefined) throw Errors.unlocatable(key, describeFunction(fn), 'distributed');
  if ('captures' in ref) throw Errors.capturesLocals(key, describeFunction(fn), ref.captures, 'distributed');
  if ('evaluating' in ref) throw Errors.moduleStillEvaluating(key, describeFunction(fn), ref.evaluating, 'distributed');
  const out: FnRef = [ref.url, ref.name];
  located.set(fn, out);
  return out;
}

/** The specs of tasks `tasks` (all of them by default) of `graph`; `base` is added to each priority. */
export async function encodeGraph(graph: CompiledGraph, priority: Int32Array, base: number, tasks?: readonly number[]): Promise<TaskSpec[]> {
  const specs: TaskSpec[] = [];
  const all = tasks ?? Array.from({ length: graph.size }, (_, t) => t);
  for (const t of all) {
    const key = graph.keys[t]!;
    const value = graph.values[t];
    const where = () => ownerOf(key, value);
    const fnsUsed = functionsIn(value, where);
    const fnIndex = new Map<Function, number>();
    const fns: FnRef[] = [];
    for (const fn of fnsUsed) {
      if (fnIndex.has(fn)) continue;
      fnIndex.set(fn, fns.length);
      fns.push(await refOf(fn, key));
    }
    specs.push({ key, task: fns.length === 0 ? value : encodeTask(value, fnIndex, where), fns, deps: dependencyKeys(graph, t), priority: base + priority[t]! });
  }
  return specs;
}
