/**
 * A nanny: the small process that keeps one worker process running. It starts the worker, starts
 * it again when it dies (the scheduler re-runs what was lost), stops it when the cluster closes,
 * and stops it and itself when the cluster's process is gone.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromNanny, ToNanny } from './cluster.js';

let worker: ChildProcess | undefined;
let closing = false;
let config: Extract<ToNanny, { op: 'start' }> | undefined;

function tell(message: FromNanny): void {
  if (process.connected) process.send!(message);
}

function start(): void {
  const child = fork(fileURLToPath(new URL('./distributedWorker.js', import.meta.url)), [], {
    execArgv: ['--enable-source-maps'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  worker = child;
  child.send(config!);
  child.on('message', (m: { op: string }) => {
    if (m.op === 'started') tell({ op: 'worker-started', pid: child.pid! });
  });
  child.on('exit', (code, signal) => {
    if (worker === child) worker = undefined;
    if (closing) process.exit(0);
    tell({ op: 'worker-died', pid: child.pid!, code, signal });
    start();
  });
}

process.on('message', (message: ToNanny) => {
  if (message.op === 'start') {
    config = message;
    start();
  } else if (message.op === 'close') {
    closing = true;
    if (worker === undefined) process.exit(0);
    worker.send({ op: 'close' });
    setTimeout(() => {
      worker?.kill('SIGKILL');
      process.exit(0);
    }, 2000).unref();
  }
});

// the cluster's process is gone (closed, crashed or killed): nothing to work for
process.on('disconnect', () => {
  closing = true;
  worker?.kill('SIGKILL');
  process.exit(0);
});
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the cluster decides
