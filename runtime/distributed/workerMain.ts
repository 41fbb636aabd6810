/**
 * The entry of a worker process: started by its nanny, it gets its configuration over IPC, joins
 * the scheduler over sockets with the cluster's secret, and ends when the scheduler closes it,
 * when the connection is lost, or when its nanny is gone.
 */
import { socketTransport } from './comm.js';
import type { ToNanny } from './cluster.js';
import { Worker } from './worker.js';

process.once('message', (message: ToNanny) => {
  if (message.op !== 'start') return;
  const worker = new Worker({
    scheduler: message.scheduler,
    name: message.name,
    nthreads: message.nthreads,
    listen: 'tcp://127.0.0.1:0',
    transport: socketTransport(message.secret),
    memoryLimit: message.memoryLimit,
    onClosed: () => process.exit(0),
  });
  worker.start().then(
    () => process.send?.({ op: 'started', address: worker.address }),
    (error: unknown) => {
      process.stderr.write(`skein worker ${message.name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
  process.on('message', (m: { op: string }) => {
    if (m.op === 'close') void worker.close();
  });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
