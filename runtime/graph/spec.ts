/**
 * The graph specification, with Dask's semantics.
 *
 * A graph is a plain object (or a Map) from keys to values. A value is a **task** when it is an
 * array whose head is a function: `[fn, ...args]`. Inside a task's arguments, and inside any
 * non-task value, a string equal to a key of the graph is a **dependency** and stands for that
 * key's result; arrays and plain objects are walked recursively; everything else is a literal.
 * A top-level value that is a string naming another key is an **alias** (`{y: 'x'}`).
 *
 * Everything here is pure and synchronous; the scheduling core builds on it.
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

/**
 * True when `value` is a task or holds one inside its arrays and plain objects (Dask's rule for
 * values that are not tasks: `[1, [inc, 1]]` runs the nested task and gives `[1, 2]`).
 */
export function containsTask(value: unknown): boolean {
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'function') return true;
    for (const v of value) if (v !== null && typeof v === 'object' && containsTask(v)) return true;
    return false;
  }
  if (isPlainObject(value)) {
    for (const k in value) {
      const v = value[k];
      if (v !== null && typeof v === 'object' && containsTask(v)) return true;
    }
  }
  return false;
}

/** Values nested deeper than this are checked for a cycle (walks recurse: a cycle would overflow). */
export const MAX_NESTING = 1000;

/**
 * Where `value` contains itself through arrays and plain objects: a path such as
 * `task[1].self → task[1]` (from the place that loops back to the object it loops to), or undefined.
 */
export function cyclePath(value: unknown, root = 'value'): string | undefined {
  const ancestors: object[] = [];
  const paths: string[] = [];
  const walk = (v: unknown, path: string): string | undefined => {
    if (v === null || typeof v !== 'object' || !(Array.isArray(v) || isPlainObject(v))) return undefined;
    const at = ancestors.indexOf(v);
    if (at >= 0) return `${root}${path} → ${root}${paths[at]}`;
    ancestors.push(v);
    paths.push(path);
    try {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const found = walk(v[i], `${path}[${i}]`);
          if (found !== undefined) return found;
        }
      } else {
        for (const k of Object.keys(v)) {
          const found = walk((v as Record<string, unknown>)[k], /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
          if (found !== undefined) return found;
        }
      }
      return undefined;
    } finally {
      ancestors.pop();
      paths.pop();
    }
  };
  return walk(value, '');
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

function collect(value: unknown, dsk: Dsk, out: Key[]): void {
  if (typeof value === 'string') {
    if (dsk.has(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (let i = typeof value[0] === 'function' ? 1 : 0; i < value.length; i++) collect(value[i], dsk, out);
  } else if (isPlainObject(value)) {
    for (const k in value) collect(value[k], dsk, out);
  }
}

function unique(keys: Key[]): Key[] {
  if (keys.length < 2) return keys;
  if (keys.length <= 8) {
    const out: Key[] = [];
    for (const k of keys) if (!out.includes(k)) out.push(k);
    return out;
  }
  return [...new Set(keys)];
}

/**
 * The keys that `key`'s value needs, each once, in order of first appearance.
 *
 *     {x: 1, y: [inc, 'x'], z: [add, 'x', {a: ['y', 1]}], w: 'z'}
 *     getDependencies(dsk, 'z') → ['x', 'y'];  getDependencies(dsk, 'w') → ['z']
 */
export function getDependencies(graph: Graph, key: Key): Key[] {
  const dsk = toDsk(graph);
  const out: Key[] = [];
  collect(dsk.get(key), dsk, out);
  return unique(out);
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
