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
import { type Key, isPlainObject } from '../graph/spec.js';

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

/** Replaces dependencies in `value` by their results, calling nested tasks. */
export function substitute(value: unknown, inputs: Inputs): unknown {
  if (typeof value === 'string') {
    const found = inputs.lookup(value);
    return found === MISSING ? value : found;
  }
  if (Array.isArray(value)) {
    if (typeof value[0] === 'function') return executeTask(value, inputs);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = substitute(value[i], inputs);
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k in value) out[k] = substitute(value[k], inputs);
    return out;
  }
  return value;
}

/** Evaluates a graph value: calls a task's function with substituted arguments. */
export function executeTask(value: unknown, inputs: Inputs): unknown {
  if (!Array.isArray(value) || typeof value[0] !== 'function') return substitute(value, inputs);
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
  // fast path for the common literal arguments: numbers, booleans, null
  return typeof value === 'object' || typeof value === 'string' ? substitute(value, inputs) : value;
}

/** True for promises and other thenables returned by async task functions. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
