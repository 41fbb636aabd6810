/**
 * A nanny: the small process that keeps one worker process of a LocalCluster running. It starts
 * the worker, starts it again when it dies (the scheduler re-runs what was lost), stops it when
 * the cluster closes, and stops it and itself when the cluster's process is gone.
 */
import type { FromNanny, ToNanny } from './cluster.js';
import { type Supervised, superviseWorker } from './supervise.js';

let supervised: Supervised | undefined;

function tell(message: FromNanny): void {
  if (process.connected) process.send!(message);
}

process.on('message', (message: ToNanny) => {
  if (message.op === 'start') {
    supervised = superviseWorker(message, {
      started: (pid) => tell({ op: 'worker-started', pid }),
      died: (pid, code, signal) => tell({ op: 'worker-died', pid, code, signal }),
    });
  } else if (message.op === 'close') {
    void (supervised?.stop() ?? Promise.resolve()).then(() => process.exit(0));
  }
});

// the cluster's process is gone (closed, crashed or killed): nothing to work for
process.on('disconnect', () => {
  supervised?.kill();
  process.exit(0);
});
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the cluster decides
