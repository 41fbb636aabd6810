/**
 * Starting a worker process (and the batch that warms a worker up), and handing over processes started early: `skein run` forks its
 * worker processes first thing (bin/skein.js → prewarm), before the CLI has loaded, and the
 * process pool created later adopts them instead of forking its own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WireBatch } from './protocol.js';

/** Forks one Skein worker process (processWorker.js), idle and not holding the parent alive. */
export function forkWorker(): ChildProcess {
  const child = fork(fileURLToPath(new URL('./processWorker.js', import.meta.url)), [], {
    serialization: 'advanced',
    execArgv: ['--enable-source-maps'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  setRef(child, false);
  return child;
}

/** Sets whether a worker's process and IPC channel keep the parent's event loop alive. */
export function setRef(child: ChildProcess, ref: boolean): void {
  const channel = (child as ChildProcess & { channel?: { ref(): void; unref(): void } }).channel;
  if (ref) {
    child.ref();
    channel?.ref();
  } else {
    child.unref();
    channel?.unref();
  }
}

/** A batch with no task that has a worker import `modules` (and register Skein's module hooks when `loader`). */
export function warmupBatch(modules: readonly string[], loader: boolean): WireBatch {
  return { fns: [], loader, preload: modules, measure: false, chains: [] };
}

const HANDOFF = Symbol.for('skein.prestartedWorkers');
type Handoff = { [HANDOFF]?: ChildProcess[] };

/** Offers worker processes started ahead of the pool (at most one offer stands). */
export function offerWorkers(children: ChildProcess[]): void {
  (globalThis as Handoff)[HANDOFF] = children;
}

/** The offered workers, when there are exactly `n` and all still run; otherwise none (and they go). */
export function takeWorkers(n: number): ChildProcess[] | undefined {
  const offered = (globalThis as Handoff)[HANDOFF];
  delete (globalThis as Handoff)[HANDOFF];
  if (offered === undefined) return undefined;
  if (offered.length === n && offered.every((c) => c.exitCode === null && c.signalCode === null && c.connected)) return offered;
  for (const child of offered) child.kill('SIGKILL');
  return undefined;
}
