/**
 * Entry point of a Skein worker thread (loaded by piscina): runs one batch per call. Large
 * ArrayBuffers in results move to the main thread instead of being copied (movable.ts): the
 * worker made them and keeps no reference, unless the next link of the chain still reads one.
 */
import { threadId } from 'node:worker_threads';
// Only piscina's "movable" marker, from the module its thread entry (bundled beside this file)
// uses too: importing piscina itself here would load the whole pool, ~13 ms per worker start.
import { markMovable } from '../../node_modules/piscina/dist/common.js';
import type { WireBatch, WireOutcome, WirePartial, WireResult } from './protocol.js';
import { runBatch } from './runBatch.js';
import { allBuffers, movableBuffers } from './movable.js';

/**
 * The buffers of `outcomes` that move, and those of inputs handed back. A buffer that came in as
 * an input of the batch never moves with a result (a task that returns its input, or part of
 * it): other tasks of the batch may read the same input still; such a result is copied.
 * `inputs()` lists the inputs' buffers (walked once, and only when a result has buffers to move).
 */
function buffersOf(outcomes: readonly WireOutcome[], inputs: () => ReadonlySet<ArrayBuffer>, returned?: ReadonlyArray<readonly [string, unknown]>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  // a held value is still read by the next link of its chain here: it is copied
  for (const o of outcomes) if (o.ok && o.held !== true) movableBuffers(o.value, buffers);
  if (buffers.size > 0) {
    const fromInputs = inputs();
    for (const b of buffers) if (fromInputs.has(b)) buffers.delete(b);
  }
  for (const [, value] of returned ?? []) movableBuffers(value, buffers);
  return [...buffers];
}

export default async function run(batch: WireBatch): Promise<unknown> {
  const port = batch.port;
  let found: Set<ArrayBuffer> | undefined;
  /** Every buffer the inputs of `batch` hold. */
  const inputs = (): ReadonlySet<ArrayBuffer> => {
    if (found === undefined) {
      found = new Set<ArrayBuffer>();
      for (const chain of batch.chains) for (const link of chain) for (const [, value] of link.inputs) allBuffers(value, found);
    }
    return found;
  };
  const emit =
    port === undefined
      ? undefined
      : (partial: WirePartial): boolean => {
          try {
            port.postMessage(partial, buffersOf(partial.outcomes, inputs));
            return true;
          } catch {
            return false; // a value structured clone refuses: the final result names its task
          }
        };
  const result: WireResult = await runBatch(batch, `thread-${threadId}`, emit, true);
  const list = buffersOf(result.outcomes, inputs, result.returned);
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
