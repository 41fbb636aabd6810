/**
 * The entry of a worker process, started by its nanny with its name and thread count as
 * arguments: it starts its threads at once, then gets the rest of its configuration (the
 * scheduler's address and secret) over IPC, joins the scheduler, and ends when the scheduler
 * closes it, when the connection is lost, or when its nanny is gone.
 */
import type { WorkerStart } from './cluster.js';
import { overNats, socketTransport } from './comm.js';
import { destroyPool, startWarmPool, Worker } from './worker.js';

const nthreads = Number(process.argv[3]);
const profiled = process.argv[4] === 'profile';
// the threads boot while this process waits for its nanny's configuration
const pool = Number.isInteger(nthreads) && nthreads > 0 ? startWarmPool(nthreads, profiled) : undefined;

let worker: Worker | undefined;
let closing = false;

process.on('message', async (message: WorkerStart | { readonly op: 'close' }) => {
  if (message.op === 'close') {
    closing = true;
    // closed before it was told where to join: nothing to leave
    if (worker === undefined) process.exit(0);
    void worker.close();
    return;
  }
  if (worker !== undefined) return;
  // over NATS its peers reach it at its own subject; otherwise on a port of this machine
  const nats = overNats(message.scheduler) ? await import('./natsComm.js') : undefined;
  if (worker !== undefined) return;
  const w = new Worker({
    scheduler: message.scheduler,
    name: message.name,
    nthreads: message.nthreads,
    listen: nats ? nats.workerAddress(message.scheduler, message.name) : 'tcp://127.0.0.1:0',
    transport: nats ? nats.natsTransport(message.scheduler, message.secret) : socketTransport(message.secret),
    memoryLimit: message.memoryLimit,
    memory: message.memory,
    exit: (code) => process.exit(code),
    profileIntervalMs: message.profileIntervalMs,
    pool: message.nthreads === nthreads && (message.profileIntervalMs !== null) === profiled ? pool : undefined,
    onClosed: () => process.exit(0),
  });
  worker = w;
  if (w.options.pool === undefined && pool !== undefined) void destroyPool(pool);
  w.start().then(
    () => process.send?.({ op: 'started', address: w.address }, (error: Error | null) => void error),
    (error: unknown) => {
      // a cluster closed while this worker was joining it is not an error
      if (!closing) process.stderr.write(`skein worker ${message.name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(closing ? 0 : 1);
    },
  );
});
// its supervisor is gone (killed with the cluster's process): nobody will clean up after it
process.on('disconnect', () => {
  worker?.discardFiles();
  process.exit(0);
});
// its supervisor went while this process was still loading (the disconnect came before anyone listened)
if (!process.connected) process.exit(0);
process.on('SIGINT', () => undefined);
