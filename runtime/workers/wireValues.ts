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

/** Finds the Buffers (when `buffers`) and user class instances inside `value`; undefined when none. */
export function scanValue(value: unknown, buffers: boolean): Special | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  let found: { buffers?: Path[]; instances?: Array<readonly [Path, Function]> } | undefined;
  const path: Array<string | number> = [];
  const walk = (v: object, depth: number): void => {
    if (depth > 64) return;
    if (Buffer.isBuffer(v)) {
      if (buffers) ((found ??= {}).buffers ??= []).push([...path]);
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x !== null && typeof x === 'object') {
          path.push(i);
          walk(x, depth + 1);
          path.pop();
        }
      }
      return;
    }
    const cls = isPlainObject(v) ? undefined : userClassOf(v);
    if (!isPlainObject(v) && cls === undefined) return;
    if (cls !== undefined) ((found ??= {}).instances ??= []).push([[...path], cls]);
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') {
        path.push(k);
        walk(x, depth + 1);
        path.pop();
      }
    }
  };
  walk(value, 0);
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
