/**
 * Entry point of a Skein worker process (started with child_process.fork, advanced
 * serialization): runs batches sent over IPC, one at a time, and exits when its parent goes.
 */
import type { WireBatch } from './protocol.js';
import { runBatch } from './runBatch.js';

process.on('message', (message: { id: number; batch: WireBatch }) => {
  runBatch(message.batch, `process-${process.pid}`).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, crash: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
