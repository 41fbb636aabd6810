/**
 * Entry point of a Skein worker process (started with child_process.fork, advanced
 * serialization): runs batches sent over IPC, one at a time, and exits when its parent goes.
 */
import { serialize } from 'node:v8';
import type { WireBatch, WireOutcome, WireResult } from './protocol.js';
import { runBatch, toWireError } from './runBatch.js';

/**
 * Sends a batch's result. When serialization fails, finds the outcome that cannot be sent
 * (only then: serializing twice costs) and fails that task, naming it, instead of the batch.
 */
function reply(id: number, result: WireResult): void {
  try {
    process.send?.({ id, result });
  } catch (error) {
    const outcomes = result.outcomes.map((o): WireOutcome => {
      if (!o.ok) return o;
      try {
        serialize(o.value);
        return o;
      } catch (e) {
        return { i: o.i, ok: false, start: o.start, end: o.end, error: toWireError(new TypeError(`the result cannot be sent between processes: ${e instanceof Error ? e.message : String(e)}. Return plain data, or run with --scheduler sync.`)) };
      }
    });
    try {
      process.send?.({ id, result: { ...result, outcomes } });
    } catch {
      process.send?.({ id, crash: error instanceof Error ? error.message : String(error) });
    }
  }
}

process.on('message', (message: { id: number; batch: WireBatch }) => {
  runBatch(message.batch, `process-${process.pid}`).then(
    (result) => reply(message.id, result),
    (error: unknown) => process.send?.({ id: message.id, crash: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
