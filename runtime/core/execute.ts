/**
 * `executeTask`: evaluate one graph value given its dependencies' results. Shared by every
 * executor, in the calling thread (sync), in a worker thread or in a worker process, so a task
 * means the same thing wherever it runs.
 *
 * A string equal to a key with a value in `inputs` is replaced by that value (the value itself
 * is never walked again). Arrays and plain objects are rebuilt with their dependencies replaced;
 * an array whose head is a function nested in the arguments is a nested task, called in place,
 * as in Dask. Other values pass through untouched.
 */
import { type Key, type Task, isTask } from '../graph/spec.js';
import { NOT_CYCLIC, type Visitor, mapValue } from '../graph/walk.js';

/** Marks "not an input" in `Inputs.lookup`. */
export const MISSING: unique symbol = Symbol('missing');

/** The results a task may read: `lookup` gives a key's result, or `MISSING`. */
export interface Inputs {
  lookup(key: Key): unknown;
}

/** Inputs backed by a Map of key → result. */
export function mapInputs(map: ReadonlyMap<Key, unknown>): Inputs {
  return { lookup: (key) => (map.has(key) ? map.get(key) : MISSING) };
}

/** A string's value in a task: the result of the key it names, or the string itself. */
function lookupKey(value: string, inputs: Inputs): unknown {
  const found = inputs.lookup(value);
  return found === MISSING ? value : found;
}

/** Dependencies replaced by their results, nested tasks called (graph values: compiled, so never cyclic). */
const SUBSTITUTE: Visitor<Inputs> = {
  tasks: true,
  leaf: (value, inputs) => (typeof value === 'string' ? lookupKey(value, inputs) : value),
  task: (value: Task, inputs) => executeTask(value, inputs),
};

/** Replaces dependencies in `value` by their results, calling nested tasks. */
export function substitute(value: unknown, inputs: Inputs): unknown {
  return mapValue(value, SUBSTITUTE, inputs, NOT_CYCLIC);
}

/** Evaluates a graph value: calls a task's function with substituted arguments. */
export function executeTask(value: unknown, inputs: Inputs): unknown {
  if (!isTask(value)) return substitute(value, inputs);
  const fn = value[0] as (...args: unknown[]) => unknown;
  const n = value.length - 1;
  switch (n) {
    case 0:
      return fn();
    case 1:
      return fn(arg(value[1], inputs));
    case 2:
      return fn(arg(value[1], inputs), arg(value[2], inputs));
    default: {
      const args = new Array<unknown>(n);
      for (let i = 0; i < n; i++) args[i] = arg(value[i + 1], inputs);
      return fn(...args);
    }
  }
}

function arg(value: unknown, inputs: Inputs): unknown {
  // fast paths for the common arguments: a key or a literal (numbers, booleans, null)
  if (typeof value === 'string') return lookupKey(value, inputs);
  return typeof value === 'object' ? substitute(value, inputs) : value;
}

/** True for promises and other thenables returned by async task functions. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
