/**
 * The nanny: the small process that keeps a LocalCluster's worker processes running. Started
 * with the thread count and the workers' names as arguments, it starts the workers at once (they
 * boot while the cluster starts its scheduler), passes on where to join when the cluster says,
 * starts a worker again when it dies (the scheduler re-runs what was lost), stops them when the
 * cluster closes, and stops them and itself when the cluster's process is gone.
 */
import type { FromNanny, NannyArgs, ToNanny } from './cluster.js';
import { type Supervised, superviseWorker } from './supervise.js';

if (process.send === undefined) {
  process.stderr.write('the skein nanny is started by a LocalCluster (new Client() or LocalCluster.start()), not by hand\n');
  process.exit(2);
}

function tell(message: FromNanny): void {
  // the cluster's process may be ending: a write that fails then (EPIPE) is not an error of the nanny's
  if (process.connected) process.send!(message, (error: Error | null) => void error);
}

const { nthreads, names, extraCaCerts, profiled } = JSON.parse(process.argv[2]!) as NannyArgs;
// user code in the workers may need the extra certificates the cluster's process had
const env = extraCaCerts === undefined ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: extraCaCerts };
const workers = new Map<string, Supervised>(names.map((name) => [name, supervise(name)]));

/** Where workers join (the cluster says once its scheduler listens): workers added later get it too. */
let joinAt: Extract<ToNanny, { op: 'start' }> | undefined;

function supervise(name: string): Supervised {
  return superviseWorker(
    { name, nthreads, env, profiled },
    {
      started: (pid) => tell({ op: 'worker-started', name, pid }),
      died: (pid, code, signal) => tell({ op: 'worker-died', name, pid, code, signal }),
    },
  );
}

process.on('message', (message: ToNanny) => {
  if (message.op === 'start') {
    joinAt = message;
    for (const [name, worker] of workers) worker.configure({ ...message, name });
  } else if (message.op === 'add') {
    for (const name of message.names) {
      const worker = supervise(name);
      workers.set(name, worker);
      if (joinAt !== undefined) worker.configure({ ...joinAt, name });
    }
  } else if (message.op === 'remove') {
    // retired: stopped, not started again
    for (const name of message.names) {
      void workers.get(name)?.stop();
      workers.delete(name);
    }
  } else if (message.op === 'close') void Promise.all([...workers.values()].map((w) => w.stop())).then(() => process.exit(0));
});

// the cluster's process is gone (closed, crashed or killed): nothing to work for
process.on('disconnect', () => {
  for (const worker of workers.values()) worker.kill();
  process.exit(0);
});
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the cluster decides
