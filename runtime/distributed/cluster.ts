/**
 * `LocalCluster`: a scheduler and its workers on this machine. With `processes: true` (the
 * default) each worker is a Node process watched by a nanny process that starts it again when
 * it dies; the scheduler listens on 127.0.0.1 with a secret only this cluster knows. With
 * `processes: false` the workers live in this process (each with its own threads), over
 * in-process comms: one process to debug.
 *
 * Nothing outlives the cluster: `close()` stops every worker and nanny; when this process ends
 * without closing, an exit hook kills the nannies, and a nanny whose parent is gone stops its
 * worker and ends.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Errors } from '../errors.js';
import { inprocTransport, socketTransport } from './comm.js';
import { Scheduler } from './scheduler.js';
import { Worker } from './worker.js';

export interface LocalClusterOptions {
  /** Worker processes (or in-process workers); default as Dask: one per core up to 4 cores. */
  readonly nWorkers?: number;
  /** Tasks each worker runs at once, on threads of its own. */
  readonly threadsPerWorker?: number;
  /** Workers as processes (default) or in this process (`false`, for debugging). */
  readonly processes?: boolean;
  /** Memory per worker: bytes, '4GB', 'auto' (this machine's memory shared by the workers), or null. */
  readonly memoryLimit?: number | string | null;
  /** Scheduler port on 127.0.0.1 (0 or absent: a free one). */
  readonly schedulerPort?: number;
  /** Check the scheduler's invariants after every stimulus (slow; tests). */
  readonly validate?: boolean;
  /** Deaths of workers running the same task before it fails with KilledWorker (default 3). */
  readonly allowedFailures?: number;
  /** A worker that sends no heartbeat (one a second) for this long is dropped (default 30 s). */
  readonly workerTtlMs?: number;
}

/** Dask's sizing: up to 4 cores, a worker per core with one thread; beyond, about √cores workers. */
export function defaultSizing(cores: number, nWorkers?: number, threads?: number): { nWorkers: number; threadsPerWorker: number } {
  if (nWorkers !== undefined && threads !== undefined) return { nWorkers, threadsPerWorker: threads };
  if (nWorkers !== undefined) return { nWorkers, threadsPerWorker: Math.max(1, Math.floor(cores / nWorkers)) };
  if (threads !== undefined) return { nWorkers: Math.max(1, Math.floor(cores / threads)), threadsPerWorker: threads };
  if (cores <= 4) return { nWorkers: cores, threadsPerWorker: 1 };
  let p = Math.ceil(Math.sqrt(cores));
  while (cores % p !== 0) p++;
  return { nWorkers: p, threadsPerWorker: cores / p };
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** '4GB' → 4e9, 'auto' → memory per worker, a number as it is, null/0 → no limit. */
export function parseMemoryLimit(limit: number | string | null | undefined, nWorkers: number): number | null {
  if (limit === undefined || limit === null || limit === 0) return null;
  if (typeof limit === 'number') return limit;
  if (limit === 'auto') return Math.floor(totalmem() / nWorkers);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)?\s*$/i.exec(limit);
  if (!m) throw new TypeError(`memoryLimit must be bytes, a size such as '4GB' or '512MiB', 'auto' or null; got ${JSON.stringify(limit)}.`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

const nannies = new Set<ChildProcess>();
let exitHooked = false;

/** Messages between the cluster and a nanny (IPC). */
export type ToNanny = { readonly op: 'start'; readonly scheduler: string; readonly secret: string; readonly name: string; readonly nthreads: number; readonly memoryLimit: number | null } | { readonly op: 'close' };
export type FromNanny = { readonly op: 'worker-started'; readonly pid: number } | { readonly op: 'worker-died'; readonly pid: number; readonly code: number | null; readonly signal: string | null };

export class LocalCluster {
  readonly #inproc: Worker[] = [];
  readonly #nannies: ChildProcess[] = [];
  /** Worker process ids by worker name (processes: true). */
  readonly workerPids = new Map<string, number>();
  #closed = false;

  private constructor(
    readonly scheduler: Scheduler,
    readonly secret: string,
    readonly nWorkers: number,
    readonly threadsPerWorker: number,
    readonly processes: boolean,
  ) {}

  get schedulerAddress(): string {
    return this.scheduler.address;
  }

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const { nWorkers, threadsPerWorker } = defaultSizing(availableParallelism(), options.nWorkers, options.threadsPerWorker);
    if (!Number.isInteger(nWorkers) || nWorkers < 1) throw new RangeError(`nWorkers must be a positive integer, got ${nWorkers}`);
    if (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1) throw new RangeError(`threadsPerWorker must be a positive integer, got ${threadsPerWorker}`);
    const processes = options.processes ?? true;
    const memoryLimit = parseMemoryLimit(options.memoryLimit, nWorkers);
    const secret = randomBytes(24).toString('base64url');
    const transport = processes ? socketTransport(secret) : inprocTransport;
    const scheduler = new Scheduler({ listen: processes ? `tcp://127.0.0.1:${options.schedulerPort ?? 0}` : 'inproc://', transport, validate: options.validate, allowedFailures: options.allowedFailures, workerTtlMs: options.workerTtlMs, unref: processes });
    await scheduler.start();
    const cluster = new LocalCluster(scheduler, secret, nWorkers, threadsPerWorker, processes);
    const up = cluster.#waitForWorkers(nWorkers);
    try {
      if (processes) for (let i = 0; i < nWorkers; i++) cluster.#startNanny(`worker-${i}`, threadsPerWorker, memoryLimit);
      else {
        await Promise.all(
          Array.from({ length: nWorkers }, async (_, i) => {
            const w = new Worker({ scheduler: scheduler.address, name: `worker-${i}`, nthreads: threadsPerWorker, listen: 'inproc://', transport, memoryLimit });
            cluster.#inproc.push(w);
            await w.start();
          }),
        );
      }
      await up;
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Resolves once `n` workers are registered with the scheduler. */
  #waitForWorkers(n: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.scheduler.state.workers.size >= n) resolve();
        else if (this.#closed) reject(Errors.clientClosed());
      };
      this.scheduler.onWorkersChanged = check;
      this.#failStart = reject;
      check();
    });
  }

  #failStart: ((error: Error) => void) | undefined;

  #startNanny(name: string, nthreads: number, memoryLimit: number | null): void {
    const nanny = fork(fileURLToPath(new URL('./nanny.js', import.meta.url)), [], {
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    nannies.add(nanny);
    this.#nannies.push(nanny);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const n of nannies) n.kill('SIGKILL');
      });
    }
    nanny.on('message', (m: FromNanny) => {
      if (m.op === 'worker-started') this.workerPids.set(name, m.pid);
    });
    nanny.on('exit', (code, signal) => {
      nannies.delete(nanny);
      if (!this.#closed) this.#failStart?.(new Error(`the nanny of ${name} exited (${signal ?? `code ${code}`}) before the cluster closed`));
    });
    nanny.send({ op: 'start', scheduler: this.scheduler.address, secret: this.secret, name, nthreads, memoryLimit } satisfies ToNanny);
    // the cluster's handles never keep this process alive by themselves (the client does while it waits)
    nanny.unref();
    (nanny.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  /** Stops every worker, nanny and the scheduler; resolves when they are gone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const exits = this.#nannies.map(
      (n) =>
        new Promise<void>((resolve) => {
          if (n.exitCode !== null || n.signalCode !== null) return resolve();
          n.once('exit', () => resolve());
          n.ref();
          try {
            n.send({ op: 'close' } satisfies ToNanny);
          } catch {
            n.kill('SIGKILL');
          }
          setTimeout(() => n.kill('SIGKILL'), 3000).unref();
        }),
    );
    await this.scheduler.close();
    await Promise.all(this.#inproc.map((w) => w.close()));
    await Promise.all(exits);
  }
}
