/**
 * `LocalCluster`: a scheduler and its workers on this machine. With `processes: true` (the
 * default) each worker is a Node process, and one nanny process (their parent) starts a worker
 * again when it dies; the scheduler listens on 127.0.0.1 with a secret only this cluster knows. With
 * `processes: false` the workers live in this process (each with its own threads), over
 * in-process comms: one process to debug.
 *
 * Nothing outlives the cluster: `close()` stops every worker and the nanny; when this process
 * ends without closing, an exit hook kills the nanny, and a nanny whose parent is gone stops its
 * workers and ends.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Errors, SkeinError } from '../errors.js';
import type { Dashboard } from './dashboard.js';
import { inprocTransport, socketTransport } from './comm.js';
import { Scheduler } from './scheduler.js';
import { type MemoryThresholds, Worker } from './worker.js';
import { resolveConfig } from '../core/config.js';

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
  /** Where the dashboard listens: 'host:port' (default 127.0.0.1:8787, the next free port if taken), or null for none. */
  readonly dashboardAddress?: string | null;
  /** The dashboard's token, needed when it listens beyond 127.0.0.1 (its link carries it). */
  readonly dashboardToken?: string;
  /**
   * Sample the task code on every worker thread with V8's sampling profiler (the dashboard's
   * Profile page): `true` every 10 ms (Dask's interval), or the interval in ms. Off by default.
   */
  readonly profile?: boolean | number;
}

/** The sampling interval (ms) a `profile` option asks for, null for none. */
export function profileInterval(profile: boolean | number | undefined): number | null {
  if (profile === undefined || profile === false) return null;
  if (profile === true) return 10;
  if (!Number.isFinite(profile) || profile < 0.1 || profile > 1000) throw new RangeError(`profile must be true, false or a sampling interval in ms between 0.1 and 1000, got ${profile}`);
  return profile;
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

/** What a worker process needs to join its scheduler (its nanny sends it, or `skein worker`'s supervisor). */
export type WorkerStart = {
  readonly op: 'start';
  readonly scheduler: string;
  readonly secret: string;
  readonly name: string;
  readonly nthreads: number;
  readonly memoryLimit: number | null;
  readonly memory: MemoryThresholds;
  readonly profileIntervalMs: number | null;
};

/** The memory steps of the configuration in scope (`memory.*` keys). */
export function memoryThresholds(): MemoryThresholds {
  const cfg = resolveConfig();
  return { target: cfg['memory.target'], spill: cfg['memory.spill'], pause: cfg['memory.pause'], terminate: cfg['memory.terminate'] };
}
/** The nanny's one argument (JSON): its workers, and the environment it keeps out of its own start-up. */
export interface NannyArgs {
  readonly nthreads: number;
  readonly names: readonly string[];
  readonly extraCaCerts: string | undefined;
  /** The workers sample their threads (their pools keep event loops turning). */
  readonly profiled: boolean;
}
/** Messages between the cluster and its nanny (IPC): the workers' configuration but their names, which the nanny has from its arguments. */
export type ToNanny = Omit<WorkerStart, 'name'> | { readonly op: 'close' };
export type FromNanny = { readonly op: 'worker-started'; readonly name: string; readonly pid: number } | { readonly op: 'worker-died'; readonly name: string; readonly pid: number; readonly code: number | null; readonly signal: string | null };

/** Starts a nanny, which starts its workers at once; the cluster tells it where they join later. */
function forkNanny(names: readonly string[], nthreads: number, profiled: boolean): ChildProcess {
  // The nanny runs no user code and makes no TLS connection, and it is on the path to the first
  // result: no --enable-source-maps, and no NODE_EXTRA_CA_CERTS, which Node 20 parses at start-up
  // (about 45 ms with a system bundle); the workers get it back.
  const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...env } = process.env;
  const args: NannyArgs = { nthreads, names, extraCaCerts, profiled };
  const nanny = fork(fileURLToPath(new URL('./nanny.js', import.meta.url)), [JSON.stringify(args)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  nannies.add(nanny);
  nanny.on('exit', () => nannies.delete(nanny));
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const n of nannies) n.kill('SIGKILL');
    });
  }
  // the cluster's handles never keep this process alive by themselves (the client does while it waits)
  nanny.unref();
  (nanny.channel as { unref?: () => void } | undefined)?.unref?.();
  return nanny;
}

/**
 * The dashboard of a scheduler, as asked (null: none). A public address without a token is an
 * error; any other failure to listen is a warning, and the cluster goes on without one.
 */
export async function startDashboard(scheduler: Scheduler, options: { readonly dashboardAddress?: string | null; readonly dashboardToken?: string }): Promise<Dashboard | undefined> {
  if (options.dashboardAddress === null) return undefined;
  const { Dashboard } = await import('./dashboard.js');
  try {
    return await Dashboard.start(scheduler.state, { address: options.dashboardAddress, token: options.dashboardToken, profile: scheduler.profile });
  } catch (error) {
    if (error instanceof SkeinError) throw error;
    process.emitWarning(`the dashboard could not start: ${error instanceof Error ? error.message : String(error)}`, { code: 'SKEIN_DASHBOARD' });
    return undefined;
  }
}

export class LocalCluster {
  readonly #inproc: Worker[] = [];
  #nanny: ChildProcess | undefined;
  /** Worker process ids by worker name (processes: true). */
  readonly workerPids = new Map<string, number>();
  /** The dashboard serving this cluster's scheduler, unless turned off. */
  dashboard: Dashboard | undefined;
  /** The nanny's process id (processes: true). */
  get nannyPid(): number | undefined {
    return this.#nanny?.pid;
  }
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

  /** Starts a cluster; resolves once every worker has joined its scheduler. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const cluster = await LocalCluster.launch(options);
    await cluster.up;
    return cluster;
  }

  /**
   * Starts a cluster and resolves as soon as its scheduler listens, while the workers still boot
   * (`up` resolves when they have all joined; a client can submit before: tasks wait for a worker).
   * The worker processes are started first, so they boot while the scheduler starts.
   */
  static async launch(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const { nWorkers, threadsPerWorker } = defaultSizing(availableParallelism(), options.nWorkers, options.threadsPerWorker);
    if (!Number.isInteger(nWorkers) || nWorkers < 1) throw new RangeError(`nWorkers must be a positive integer, got ${nWorkers}`);
    if (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1) throw new RangeError(`threadsPerWorker must be a positive integer, got ${threadsPerWorker}`);
    const processes = options.processes ?? true;
    const memoryLimit = parseMemoryLimit(options.memoryLimit, nWorkers);
    const profileIntervalMs = profileInterval(options.profile);
    const memory = memoryThresholds();
    const names = Array.from({ length: nWorkers }, (_, i) => `worker-${i}`);
    const nanny = processes ? forkNanny(names, threadsPerWorker, profileIntervalMs !== null) : undefined;
    const secret = randomBytes(24).toString('base64url');
    const transport = processes ? socketTransport(secret) : inprocTransport;
    const scheduler = new Scheduler({ listen: processes ? `tcp://127.0.0.1:${options.schedulerPort ?? 0}` : 'inproc://', transport, validate: options.validate, allowedFailures: options.allowedFailures, workerTtlMs: options.workerTtlMs, unref: processes });
    try {
      await scheduler.start();
    } catch (error) {
      nanny?.kill('SIGKILL');
      throw error;
    }
    const cluster = new LocalCluster(scheduler, secret, nWorkers, threadsPerWorker, processes);
    scheduler.profile.on = profileIntervalMs !== null;
    try {
      cluster.dashboard = await startDashboard(scheduler, options);
    } catch (error) {
      nanny?.kill('SIGKILL');
      await scheduler.close();
      throw error;
    }
    const joined = cluster.#waitForWorkers(nWorkers);
    if (nanny !== undefined) cluster.#adopt(nanny, { op: 'start', scheduler: scheduler.address, secret, nthreads: threadsPerWorker, memoryLimit, memory, profileIntervalMs });
    const started = processes
      ? Promise.resolve()
      : Promise.all(
          names.map(async (name) => {
            const w = new Worker({ scheduler: scheduler.address, name, nthreads: threadsPerWorker, listen: 'inproc://', transport, memoryLimit, memory, profileIntervalMs });
            cluster.#inproc.push(w);
            await w.start();
          }),
        );
    cluster.up = Promise.all([joined, started]).then(
      () => undefined,
      async (error: unknown) => {
        await cluster.close();
        throw error;
      },
    );
    // a failure is reported to whoever awaits `up` (start, or the client's methods)
    cluster.up.catch(() => undefined);
    return cluster;
  }

  /** Resolves once every worker has joined the scheduler; rejects (the cluster closed) if one cannot start. */
  up: Promise<void> = Promise.resolve();

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

  #adopt(nanny: ChildProcess, start: Extract<ToNanny, { op: 'start' }>): void {
    this.#nanny = nanny;
    nanny.on('message', (m: FromNanny) => {
      if (m.op === 'worker-started') this.workerPids.set(m.name, m.pid);
    });
    const exited = (code: number | null, signal: string | null): void => {
      if (!this.#closed) this.#failStart?.(new Error(`the cluster's nanny exited (${signal ?? `code ${code}`}) before the cluster closed`));
    };
    if (nanny.exitCode !== null || nanny.signalCode !== null) return exited(nanny.exitCode, nanny.signalCode);
    nanny.on('exit', exited);
    nanny.send(start satisfies ToNanny);
  }

  /** Stops every worker, nanny and the scheduler; resolves when they are gone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // closed before every worker joined: whoever waits for them hears it
    this.#failStart?.(Errors.clientClosed());
    const n = this.#nanny;
    const exited = new Promise<void>((resolve) => {
      if (n === undefined || n.exitCode !== null || n.signalCode !== null) return resolve();
      n.once('exit', () => resolve());
      n.ref();
      try {
        n.send({ op: 'close' } satisfies ToNanny);
      } catch {
        n.kill('SIGKILL');
      }
      setTimeout(() => n.kill('SIGKILL'), 3000).unref();
    });
    await this.dashboard?.close();
    await this.scheduler.close();
    await Promise.all(this.#inproc.map((w) => w.close()));
    await exited;
  }
}
