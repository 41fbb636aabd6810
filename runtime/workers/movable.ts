/**
 * Memory that moves between threads instead of being copied. `postMessage` copies an
 * ArrayBuffer unless it is in the transfer list; transferred, it moves (the sender's copy is
 * left detached, empty). Skein moves the large buffers a value owns whole:
 *
 * - results, from a worker thread to the scheduler (the worker made them and is done with them);
 * - inputs on their last use, from the scheduler to the worker thread that reads them last (a
 *   lend: batchExecutor.ts decides when nothing else can still read them).
 *
 * A typed array that views only part of its buffer (Node's pooled Buffers) may share it with
 * other data, so it is copied; so are buffers under 64 KiB, where moving saves nothing.
 */

/** Buffers smaller than this are copied. */
export const MOVE_MIN_BYTES = 64 * 1024;

/** Longest array walked, and how deep: a value is looked into this far for buffers. */
const MAX_ITEMS = 1024;
const MAX_DEPTH = 8;

/**
 * Adds to `out` the buffers of `value` that may move: ArrayBuffers of 64 KiB or more, alone or
 * viewed whole by a typed array, through arrays (of up to 1,024 items) and plain objects.
 */
export function movableBuffers(value: unknown, out: Set<ArrayBuffer>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
  if (value instanceof ArrayBuffer) {
    if (value.byteLength >= MOVE_MIN_BYTES) out.add(value);
  } else if (ArrayBuffer.isView(value)) {
    const { buffer } = value;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && buffer.byteLength >= MOVE_MIN_BYTES) out.add(buffer);
  } else if (Array.isArray(value)) {
    if (value.length <= MAX_ITEMS) for (const v of value) movableBuffers(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) movableBuffers(v, out, depth + 1);
  }
}

/**
 * Every ArrayBuffer `value` reaches (any size, viewed whole or in part) into `out`; false when
 * the value holds more than the walk looks at (long arrays, deep nesting, Maps, Sets, class
 * instances), so that it may hold buffers not listed.
 */
export function allBuffers(value: unknown, out: Set<ArrayBuffer>, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (value instanceof ArrayBuffer) {
    out.add(value);
    return true;
  }
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
    return true;
  }
  if (depth >= MAX_DEPTH) return false;
  let complete = true;
  if (Array.isArray(value)) {
    if (value.length > MAX_ITEMS) return false;
    for (const v of value) complete = allBuffers(v, out, depth + 1) && complete;
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) complete = allBuffers(v, out, depth + 1) && complete;
  } else if (value instanceof Date || value instanceof RegExp) {
    return true;
  } else {
    return false;
  }
  return complete;
}
