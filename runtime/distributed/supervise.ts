/**
 * Keeping one worker process running: start it, start it again when it dies, stop it on request.
 * The nanny process (nanny.ts) does this for a LocalCluster's workers, `skein worker` for a
 * worker started by hand.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ToNanny } from './cluster.js';

export interface Supervised {
  /** Stops the worker (gracefully, then SIGKILL after 2 s); resolves when it is gone. */
  stop(): Promise<void>;
  /** Kills the worker at once (the supervisor's own parent is gone). */
  kill(): void;
}

export function superviseWorker(
  config: Extract<ToNanny, { op: 'start' }>,
  events: { started?(pid: number): void; died?(pid: number, code: number | null, signal: string | null): void } = {},
): Supervised {
  let worker: ChildProcess | undefined;
  let stopping = false;
  let stopped: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (stopped = resolve));

  const start = (): void => {
    const child = fork(fileURLToPath(new URL('./distributedWorker.js', import.meta.url)), [], {
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    worker = child;
    child.send(config);
    child.on('message', (m: { op: string }) => {
      if (m.op === 'started') events.started?.(child.pid!);
    });
    child.on('exit', (code, signal) => {
      if (worker === child) worker = undefined;
      if (stopping) return stopped();
      events.died?.(child.pid!, code, signal);
      start();
    });
  };
  start();

  return {
    stop() {
      stopping = true;
      if (worker === undefined) return Promise.resolve();
      worker.send({ op: 'close' });
      const w = worker;
      setTimeout(() => w.kill('SIGKILL'), 2000).unref();
      return gone;
    },
    kill() {
      stopping = true;
      worker?.kill('SIGKILL');
    },
  };
}
