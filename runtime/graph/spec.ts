/**
 * The graph specification, with Dask's semantics.
 *
 * A graph is a plain object (or a Map) from keys to values. A value is a **task** when it is an
 * array whose head is a function: `[fn, ...args]`. Inside a task's arguments, and inside any
 * non-task value, a string equal to a key of the graph is a **dependency** and stands for that
 * key's result; arrays and plain objects are walked recursively; everything else is a literal.
 * A top-level value that is a string naming another key is an **alias** (`{y: 'x'}`).
 *
 * Everything here is pure and synchronous; walk.ts walks values by these rules, compile.ts
 * numbers a graph's keys and edges, and the scheduling core builds on both.
 */

export type Key = string;

/** A function-headed array: `[fn, ...args]`. */
export type Task = readonly [(...args: never[]) => unknown, ...unknown[]];

/** A graph as users write it: a plain object or a Map from keys to tasks or values. */
export type Graph = Readonly<Record<Key, unknown>> | ReadonlyMap<Key, unknown>;

/** The normalised graph every internal function works on. */
export type Dsk = ReadonlyMap<Key, unknown>;

/** Turns a user graph into the Map form (no copy when it is a Map already). */
export function toDsk(graph: Graph): Dsk {
  if (graph instanceof Map) return graph;
  if (graph === null || typeof graph !== 'object' || Array.isArray(graph)) {
    throw new TypeError(`A graph must be a plain object or a Map of keys to tasks, got ${describeValue(graph)}`);
  }
  return new Map(Object.entries(graph));
}

/** The function of a task (`[fn, ...args]`), or undefined for any other value. */
export function taskFunction(value: unknown): Function | undefined {
  return isTask(value) ? value[0] : undefined;
}

/** True when `value` is a task: an array whose first element is a function. */
export function isTask(value: unknown): value is Task {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === 'function';
}

/** True for `{}`-literals and `Object.create(null)`, the only objects whose values are walked. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The key group: the prefix before the last `-` or `:` (`load-3` is in `load`,
 * `stage:clean:7` in `stage:clean`). A key with neither is its own group.
 */
export function keyGroup(key: Key): string {
  const cut = Math.max(key.lastIndexOf('-'), key.lastIndexOf(':'));
  return cut > 0 ? key.slice(0, cut) : key;
}

/** A short, safe description of any value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'null prototype'})`;
  return `${typeof value} ${String(value)}`;
}
