/**
 * `skein debug`: the task that failed, run again on its own under a JavaScript debugger. The
 * graph is culled to what the task needs and run with the synchronous scheduler; the task's
 * function is called through `pauseThenCall`, whose `debugger` statement stops right before it,
 * so one Step Into enters the task's own code with its inputs.
 */
import { Errors } from '../errors.js';
import type { CompiledGraph } from '../graph/compile.js';
import type { Key } from '../graph/spec.js';

type TaskFunction = (...args: unknown[]) => unknown;

/** A copy of `graph` whose task `key` stops in the debugger just before its function runs. */
export function pauseBeforeTask(graph: CompiledGraph, key: Key): CompiledGraph {
  const t = graph.index.get(key);
  if (t === undefined) throw Errors.missingKey(key, graph.keys);
  const task = graph.values[t];
  if (!Array.isArray(task) || typeof task[0] !== 'function') return graph; // data, not a call: nothing to stop before
  const fn = task[0] as TaskFunction;
  const values = [...graph.values];
  values[t] = [pauseThenCall(key, fn), ...task.slice(1)];
  return { ...graph, values };
}

function pauseThenCall(key: Key, fn: TaskFunction): TaskFunction {
  return function skeinDebugTask(this: unknown, ...inputs: unknown[]): unknown {
    const failedTask = { key, fn, inputs }; // what the debugger shows: the task that failed, its function, its arguments
    // skein debug stops here, before the task that failed: Step Into (F11) goes to the call below, then into its function.
    debugger; // eslint-disable-line no-debugger
    return failedTask.fn.apply(this, failedTask.inputs);
  };
}
