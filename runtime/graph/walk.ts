/**
 * The one walker of graph values: the graph spec's rules for what is inside a value, in one place.
 *
 * - An array whose head is a function is a **task** (`[fn, ...args]`): its arguments are walked,
 *   its head is its function. Values that are not graph values yet (delayed arguments, compute's
 *   arguments, values on their way to a worker) are walked with `tasks: false`, where such an
 *   array is a list like any other.
 * - Any other array, and a plain object (a `{}` literal or `Object.create(null)`), is a
 *   **container**: its elements or own values are walked.
 * - Everything else is a **leaf**: a string (a dependency when it names a key), a number, a
 *   function, an instance of a class (a Delayed, a Buffer, a Date, a Map: never walked into,
 *   except class instances a visitor asks for with `instance`).
 *
 * Callers say what happens at leaves and tasks; the walker does the recursion, the rebuilding and
 * the cycle check: a value nested deeper than MAX_NESTING is searched for a cycle and refused with
 * its path (`task[1].self → task[1]`) instead of overflowing the stack. Two walks: `scanValue`
 * reads (and can stop early), `mapValue` rebuilds.
 *
 *     forEachKey([add, 'x', {a: ['y', 1]}], (s) => dsk.has(s), push)   // pushes 'x', 'y'
 *     mapValue([1, d], {tasks: false, leaf: (v) => (isDelayed(v) ? v.key : v)}, null, where)
 */
import { Errors } from '../errors.js';
import { type Task, isPlainObject } from './spec.js';

/** Values nested deeper than this are checked for a cycle (walks recurse: a cycle would overflow). */
export const MAX_NESTING = 1000;

/** What a walked value belongs to, for the message when it loops back on itself. Made only then. */
export type Where = () => readonly [owner: string, rootName: string];

/** What a walk does; `C` is a context passed to every hook (so hot walks need no closure). */
export interface Visitor<C> {
  /** True: a function-headed array is a task (graph values). False: it is a list like any other. */
  readonly tasks: boolean;
  /**
   * A leaf. scanValue: return true to stop the walk. mapValue: return what replaces it
   * (without this hook, leaves are kept).
   */
  leaf?(value: unknown, ctx: C): unknown;
  /**
   * A task, before its arguments. scanValue: return true to stop the walk, false to skip its
   * arguments, undefined to walk them. mapValue: return what replaces it (without this hook, the
   * task with its arguments mapped and its head kept).
   */
  task?(value: Task, ctx: C): unknown;
  /**
   * An object that is not an array or a plain object: return true to walk its own fields
   * instead of treating it as a leaf (class instances sent to a worker). mapValue then hands
   * the mapped fields to `rebuild`.
   */
  instance?(value: object, ctx: C): boolean;
  /** mapValue only: what replaces an instance whose fields were walked, given its mapped fields. */
  rebuild?(value: object, fields: Record<string, unknown>, ctx: C): unknown;
  /**
   * mapValue only: an array or plain object before it is walked. Return WALK to walk it, or
   * what replaces it (markers that a wire format put in plain objects).
   */
  enter?(value: object, ctx: C): unknown;
}

/** Returned by `Visitor.enter`: walk this value by the rules. */
export const WALK: unique symbol = Symbol('walk');

/** A walk that nests too deep: the cycle, named, or the depth. */
function tooDeep<C>(root: unknown, visitor: Visitor<C>, ctx: C, where: Where): never {
  const [owner, rootName] = where();
  const follow = visitor.instance === undefined ? undefined : (v: object) => visitor.instance!(v, ctx);
  throw Errors.cyclicValue(owner, cyclePath(root, rootName, follow));
}

/**
 * Walks `value` without changing it; true when a hook stopped the walk. `where` names the value
 * in the error thrown when it contains itself.
 */
export function scanValue<C>(value: unknown, visitor: Visitor<C>, ctx: C, where: Where): boolean {
  return scanAt(value, 0, visitor, ctx, value, where);
}

function scanAt<C>(v: unknown, depth: number, visitor: Visitor<C>, ctx: C, root: unknown, where: Where): boolean {
  if (v === null || typeof v !== 'object') return visitor.leaf !== undefined && visitor.leaf(v, ctx) === true;
  if (depth > MAX_NESTING) tooDeep(root, visitor, ctx, where);
  if (Array.isArray(v)) {
    let i = 0;
    if (visitor.tasks && typeof v[0] === 'function') {
      if (visitor.task !== undefined) {
        const seen = visitor.task(v as unknown as Task, ctx);
        if (seen === true) return true;
        if (seen === false) return false;
      }
      i = 1;
    }
    const leaf = visitor.leaf;
    for (; i < v.length; i++) {
      const x: unknown = v[i];
      // leaves in place (most arguments are), containers by recursion
      if (x === null || typeof x !== 'object') {
        if (leaf !== undefined && leaf(x, ctx) === true) return true;
      } else if (scanAt(x, depth + 1, visitor, ctx, root, where)) return true;
    }
    return false;
  }
  if (isPlainObject(v)) {
    for (const k in v) if (scanAt(v[k], depth + 1, visitor, ctx, root, where)) return true;
    return false;
  }
  if (visitor.instance !== undefined && visitor.instance(v, ctx)) {
    for (const k of Object.keys(v)) if (scanAt((v as Record<string, unknown>)[k], depth + 1, visitor, ctx, root, where)) return true;
    return false;
  }
  return visitor.leaf !== undefined && visitor.leaf(v, ctx) === true;
}

/**
 * `value` rebuilt: arrays and plain objects copied with their contents mapped, leaves and tasks
 * replaced as the visitor says. `where` names the value in the error thrown when it contains itself.
 */
export function mapValue<C>(value: unknown, visitor: Visitor<C>, ctx: C, where: Where): unknown {
  return mapAt(value, 0, visitor, ctx, value, where);
}

function mapAt<C>(v: unknown, depth: number, visitor: Visitor<C>, ctx: C, root: unknown, where: Where): unknown {
  if (v === null || typeof v !== 'object') return visitor.leaf === undefined ? v : visitor.leaf(v, ctx);
  if (depth > MAX_NESTING) tooDeep(root, visitor, ctx, where);
  const array = Array.isArray(v);
  if (array || isPlainObject(v)) {
    if (visitor.enter !== undefined) {
      const replaced = visitor.enter(v, ctx);
      if (replaced !== WALK) return replaced;
    }
    if (array) {
      let i = 0;
      if (visitor.tasks && typeof v[0] === 'function') {
        if (visitor.task !== undefined) return visitor.task(v as unknown as Task, ctx);
        i = 1;
      }
      const out = new Array<unknown>(v.length);
      if (i === 1) out[0] = v[0];
      const leaf = visitor.leaf;
      for (; i < v.length; i++) {
        const x: unknown = v[i];
        out[i] = x === null || typeof x !== 'object' ? (leaf === undefined ? x : leaf(x, ctx)) : mapAt(x, depth + 1, visitor, ctx, root, where);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const k in v) out[k] = mapAt((v as Record<string, unknown>)[k], depth + 1, visitor, ctx, root, where);
    return out;
  }
  if (visitor.instance !== undefined && visitor.instance(v, ctx)) {
    const fields: Record<string, unknown> = {};
    for (const k of Object.keys(v)) fields[k] = mapAt((v as Record<string, unknown>)[k], depth + 1, visitor, ctx, root, where);
    return visitor.rebuild === undefined ? fields : visitor.rebuild(v, fields, ctx);
  }
  return visitor.leaf === undefined ? v : visitor.leaf(v, ctx);
}

const HAS_KEY: Visitor<{ isKey: (s: string) => boolean; onKey: (s: string) => void }> = {
  tasks: true,
  leaf(v, ctx) {
    if (typeof v === 'string' && ctx.isKey(v)) ctx.onKey(v);
  },
};

/**
 * Calls `onKey` for every string in a graph value that `isKey` accepts: its dependencies, in
 * order of appearance, repeats included. Task heads are functions, never keys.
 */
export function forEachKey(value: unknown, isKey: (s: string) => boolean, onKey: (s: string) => void, where: Where): void {
  if (typeof value === 'string') {
    if (isKey(value)) onKey(value);
  } else if (value !== null && typeof value === 'object') {
    scanValue(value, HAS_KEY, { isKey, onKey }, where);
  }
}

const FINDS_TASK: Visitor<null> = { tasks: true, task: () => true };

/**
 * True when `value` is a task or holds one inside its arrays and plain objects (Dask's rule for
 * values that are not tasks: `[1, [inc, 1]]` runs the nested task and gives `[1, 2]`).
 * Only for values already walked once (compiled graph values), so it needs no cycle check.
 */
export function containsTask(value: unknown): boolean {
  return value !== null && typeof value === 'object' && scanValue(value, FINDS_TASK, null, NOT_CYCLIC);
}

/** For walks of graph values already compiled: compileGraph refused any that loops back. */
export const NOT_CYCLIC: Where = () => {
  throw new Error('a compiled graph value nests too deep (compileGraph checks every value)');
};

/**
 * Where `value` contains itself through arrays and plain objects (and the objects `follow`
 * accepts): a path such as `task[1].self → task[1]` (from the place that loops back to the
 * object it loops to), or undefined.
 */
export function cyclePath(value: unknown, root = 'value', follow?: (v: object) => boolean): string | undefined {
  const ancestors: object[] = [];
  const paths: string[] = [];
  const walk = (v: unknown, path: string): string | undefined => {
    if (v === null || typeof v !== 'object') return undefined;
    const array = Array.isArray(v);
    if (!array && !isPlainObject(v) && !(follow?.(v) ?? false)) return undefined;
    const at = ancestors.indexOf(v);
    if (at >= 0) return `${root}${path} → ${root}${paths[at]}`;
    ancestors.push(v);
    paths.push(path);
    try {
      if (array) {
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
