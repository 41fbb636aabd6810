/**
 * Values that structured clone would change without a word on the way between threads or
 * processes, made whole again on the other side:
 *
 * - A Node Buffer: `postMessage` turns it into a plain Uint8Array (child processes' advanced
 *   serialization keeps it). The receiver makes it a Buffer again, over the same memory.
 * - An instance of a class: clone keeps its own fields and drops its prototype, so its methods
 *   are gone. When the class is exported from a module both sides load, the sender names it
 *   (module URL + export name) and the receiver gives the copy its prototype back. An instance of
 *   a class no module exports cannot be rebuilt: the sender refuses it, naming the class.
 *
 * The sender lists where such values are (paths through arrays, plain objects and class
 * instances' fields); values without them are not touched.
 */
import { isPlainObject } from '../graph/spec.js';
import type { FnRef } from './protocol.js';

export type Path = ReadonlyArray<string | number>;

/** What a value holds that needs restoring: Buffer paths, and class instances with their class. */
export interface Special {
  readonly buffers?: Path[];
  readonly instances?: Array<readonly [Path, Function]>;
}

const CLONEABLE: readonly Function[] = [Date, RegExp, Map, Set, ArrayBuffer, Error, Boolean, Number, String, Promise, WeakMap, WeakSet, WeakRef];

/** The class of `value` when it is an instance of a user class (not a built-in structured clone knows). */
export function userClassOf(value: object): Function | undefined {
  if (Array.isArray(value) || ArrayBuffer.isView(value) || isPlainObject(value)) return undefined;
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) return undefined;
  for (const builtin of CLONEABLE) if (value instanceof builtin) return undefined;
  const ctor = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor;
  return typeof ctor === 'function' ? ctor : undefined;
}

/** A value structured clone cannot send, named for the task whose result holds it. */
function unsendable(where: string, key: string, what: string): TypeError {
  return new TypeError(`${where} of task ${JSON.stringify(key)} is a ${what}, which cannot be sent between threads or processes. Return plain data (objects, arrays, typed arrays, Maps, Sets), or run with --scheduler sync.`);
}

/**
 * One walk of a value about to cross to another thread or process: finds the Buffers (when
 * `buffers`) and the user class instances to restore on the other side, through arrays, plain
 * objects and instances' fields; undefined when there are none. With `resultOf` (the task whose
 * result it is), it also refuses what structured clone cannot send (a function, a symbol, a
 * WeakMap, WeakSet, WeakRef or Promise), naming where in the result it is, Maps and Sets included.
 */
export function scanResult(value: unknown, buffers: boolean, resultOf?: string): Special | undefined {
  if (value === null || (typeof value !== 'object' && resultOf === undefined)) return undefined;
  let found: { buffers?: Path[]; instances?: Array<readonly [Path, Function]> } | undefined;
  const path: Array<string | number> = [];
  /** `where`: the place for messages; `restorable`: reached through arrays, plain objects and instances only. */
  const walk = (v: unknown, where: string, restorable: boolean, depth: number): void => {
    if (v === null || depth > 64) return;
    const t = typeof v;
    if (t === 'function' || t === 'symbol') {
      if (resultOf !== undefined) throw unsendable(where, resultOf, t);
      return;
    }
    if (t !== 'object') return;
    if (ArrayBuffer.isView(v)) {
      if (buffers && restorable && Buffer.isBuffer(v)) ((found ??= {}).buffers ??= []).push([...path]);
      return;
    }
    if (v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp || v instanceof Error) return;
    if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef || v instanceof Promise) {
      if (resultOf !== undefined) throw unsendable(where, resultOf, v.constructor.name);
      return;
    }
    if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) return;
    if (v instanceof Map || v instanceof Set) {
      // walked for what cannot be sent; what is inside is not restored (paths go through objects and arrays)
      if (resultOf === undefined) return;
      if (v instanceof Map) for (const [k, x] of v) walk(x, `${where}.get(${JSON.stringify(String(k))})`, false, depth + 1);
      else for (const x of v) walk(x, `an element of ${where}`, false, depth + 1);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x === null || (typeof x !== 'object' && typeof x !== 'function' && typeof x !== 'symbol')) continue;
        path.push(i);
        walk(x, resultOf === undefined ? where : `${where}[${i}]`, restorable, depth + 1);
        path.pop();
      }
      return;
    }
    const cls = isPlainObject(v) ? undefined : userClassOf(v as object);
    if (!isPlainObject(v) && cls === undefined && resultOf === undefined) return;
    if (cls !== undefined && restorable) ((found ??= {}).instances ??= []).push([[...path], cls]);
    for (const k of Object.keys(v as object)) {
      path.push(k);
      walk((v as Record<string, unknown>)[k], resultOf === undefined ? where : `${where}.${k}`, restorable, depth + 1);
      path.pop();
    }
  };
  walk(value, 'the result', true, 0);
  return found;
}

function at(root: unknown, path: Path): unknown {
  let v = root;
  for (const part of path) v = (v as Record<string | number, unknown>)[part];
  return v;
}

function replaceAt(root: unknown, path: Path, make: (old: unknown) => unknown): unknown {
  if (path.length === 0) return make(root);
  const parent = at(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  parent[last] = make(parent[last]);
  return root;
}

/** Wire form of the class instances found: paths with the module URL + export name of their class. */
export type WireClasses = ReadonlyArray<readonly [Path, FnRef]>;

/**
 * `value` made whole: Uint8Arrays at `buffers` become Buffers again, the objects at `classes`
 * get their class's prototype back (`classOf` gives the class for a module URL + export name).
 * In place below the top level; returns the (possibly new) top-level value.
 */
export function restoreValue(value: unknown, buffers: readonly Path[] | undefined, classes: WireClasses | undefined, classOf?: (ref: FnRef) => Function): unknown {
  let root = value;
  if (classes !== undefined && classOf !== undefined) {
    for (const [path, ref] of classes) {
      const proto = (classOf(ref) as { prototype: object }).prototype;
      root = replaceAt(root, path, (copy) => (copy !== null && typeof copy === 'object' ? Object.setPrototypeOf(copy, proto) : copy));
    }
  }
  if (buffers !== undefined) {
    for (const path of buffers) {
      root = replaceAt(root, path, (view) => (view instanceof Uint8Array && !Buffer.isBuffer(view) ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : view));
    }
  }
  return root;
}
