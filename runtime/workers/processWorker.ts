/**
 * Entry point of a Skein worker process (started with child_process.fork, advanced
 * serialization): runs batches sent over IPC, one at a time, and exits when its parent goes.
 */
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { WireBatch, WireOutcome, WirePartial, WireResult } from './protocol.js';
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

/** Streams outcomes before the batch ends; what cannot be sent waits for the final reply, which names it. */
function sendPartial(id: number, partial: WirePartial): boolean {
  try {
    process.send?.({ id, partial });
    return true;
  } catch {
    return false;
  }
}

/**
 * A worker process whose parent died without closing it (SIGINT or SIGKILL to the parent alone)
 * would go on computing until its task ends: 'disconnect' is only heard between tasks. A small
 * thread watches for the parent to change (the process is re-parented when it dies) and ends this
 * process at once, busy or not. Started after the first batch, off the start-up path.
 */
function watchParent(): void {
  const code = `const parent = ${process.ppid}; setInterval(() => { if (process.ppid !== parent) process.kill(${process.pid}, 'SIGKILL'); }, 250);`;
  new Worker(code, { eval: true }).unref();
}
let watching = false;

process.on('message', (message: { id: number; batch: WireBatch }) => {
  if (!watching) {
    watching = true;
    setImmediate(watchParent);
  }
  const emit = message.batch.stream === true ? (partial: WirePartial) => sendPartial(message.id, partial) : undefined;
  runBatch(message.batch, `process-${process.pid}`, emit).then(
    (result) => reply(message.id, result),
    (error: unknown) => process.send?.({ id: message.id, crash: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
