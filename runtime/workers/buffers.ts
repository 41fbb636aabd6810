/**
 * Keeping a Buffer a Buffer between threads: `postMessage` turns a Node Buffer into a plain
 * Uint8Array (child processes' advanced serialization keeps it). The sender lists where the
 * Buffers are (paths through arrays and plain objects) and the receiver makes them Buffers again,
 * over the same memory.
 */
import { isPlainObject } from '../graph/spec.js';

export type Path = ReadonlyArray<string | number>;

/** Paths to the Buffers inside `value` (through arrays and plain objects); [] for none. */
export function bufferPaths(value: unknown, out: Path[] = [], path: Array<string | number> = [], depth = 0): Path[] {
  if (value === null || typeof value !== 'object' || depth > 64) return out;
  if (Buffer.isBuffer(value)) out.push([...path]);
  else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') {
        path.push(i);
        bufferPaths(v, out, path, depth + 1);
        path.pop();
      }
    }
  } else if (isPlainObject(value)) {
    for (const k of Object.keys(value)) {
      const v = value[k];
      if (v !== null && typeof v === 'object') {
        path.push(k);
        bufferPaths(v, out, path, depth + 1);
        path.pop();
      }
    }
  }
  return out;
}

function asBuffer(view: unknown): unknown {
  return view instanceof Uint8Array && !Buffer.isBuffer(view) ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : view;
}

/** `value` with the Uint8Arrays at `paths` made Buffers again (in place below the top level). */
export function restoreBuffers(value: unknown, paths: readonly Path[]): unknown {
  let root = value;
  for (const path of paths) {
    if (path.length === 0) {
      root = asBuffer(root);
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    parent[last] = asBuffer(parent[last]);
  }
  return root;
}
