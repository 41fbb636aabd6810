/**
 * Entry point of a Skein worker thread (loaded by piscina): runs one batch per call. Large
 * ArrayBuffers in results (64 KiB or more, not views into a shared pool) are transferred to
 * the main thread instead of copied: the worker made them and keeps no reference.
 */
import { threadId } from 'node:worker_threads';
// Only piscina's "movable" marker, from the module its thread entry (bundled beside this file)
// uses too: importing piscina itself here would load the whole pool, ~13 ms per worker start.
import { markMovable } from '../../node_modules/piscina/dist/common.js';
import type { WireBatch, WireOutcome, WirePartial, WireResult } from './protocol.js';
import { runBatch } from './runBatch.js';

const TRANSFER_MIN_BYTES = 64 * 1024;

function collectBuffers(value: unknown, out: Set<ArrayBuffer>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if (value instanceof ArrayBuffer) {
    if (value.byteLength >= TRANSFER_MIN_BYTES) out.add(value);
  } else if (ArrayBuffer.isView(value)) {
    const { buffer } = value;
    // a view over part of a buffer (Node's Buffer pool) may share it with other data: copy those
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && buffer.byteLength >= TRANSFER_MIN_BYTES) out.add(buffer);
  } else if (Array.isArray(value)) {
    if (value.length <= 1024) for (const v of value) collectBuffers(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectBuffers(v, out, depth + 1);
  }
}

function buffersOf(outcomes: readonly WireOutcome[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const o of outcomes) if (o.ok) collectBuffers(o.value, buffers);
  return [...buffers];
}

export default async function run(batch: WireBatch): Promise<unknown> {
  const port = batch.port;
  const emit =
    port === undefined
      ? undefined
      : (partial: WirePartial): boolean => {
          try {
            port.postMessage(partial, buffersOf(partial.outcomes));
            return true;
          } catch {
            return false; // a value structured clone refuses: the final result names its task
          }
        };
  const result: WireResult = await runBatch(batch, `thread-${threadId}`, emit, true);
  const list = buffersOf(result.outcomes);
  if (list.length === 0) return result;
  // piscina's Transferable protocol: the list to transfer, and the value to send
  const transferable = {
    get [Symbol.for('Piscina.transferable')]() {
      return list;
    },
    get [Symbol.for('Piscina.valueOf')]() {
      return result;
    },
  };
  markMovable(transferable);
  return transferable;
}
