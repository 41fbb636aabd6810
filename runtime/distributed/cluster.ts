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
export type ToNanny = Omit<WorkerStart, 'name'> | { readonly op: 'close' } | { readonly op: 'add'; readonly names: readonly string[] } | { readonly op: 'remove'; readonly names: readonly string[] };
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
  // a write to a nanny that is ending (EPIPE) is not the program's error: its exit is handled
  nanny.on('error', () => undefined);
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

/** What a Client needs of a cluster it is given or starts: LocalCluster, SlurmCluster, KubeCluster. */
export interface Cluster {
  readonly scheduler: Scheduler;
  readonly schedulerAddress: string;
  readonly secret: string;
  /** Resolves once the scheduler listens. */
  readonly listening: Promise<void>;
  /** Resolves once the workers it starts by itself have joined. */
  readonly up: Promise<void>;
  readonly dashboard: Dashboard | undefined;
  scale(n: number): Promise<void>;
  /** Scales with the work (Dask's `adapt`); see LocalCluster.adapt (a job cluster counts in jobs: `minimumJobs`, `maximumJobs`). */
  adapt(options?: AdaptOptions): Adaptive;
  close(): Promise<void>;
}

/** A value given to `new Client(…)` that is a cluster rather than options. */
export function isCluster(value: unknown): value is Cluster {
  return typeof value === 'object' && value !== null && 'scheduler' in value && 'schedulerAddress' in value && typeof (value as Cluster).close === 'function';
}

/** What `adapt` scales: a cluster's workers (a job cluster counts them in jobs). */
export interface AdaptTarget {
  readonly scheduler: Scheduler;
  readonly threadsPerWorker: number;
  readonly workers: readonly string[];
  scale(n: number): Promise<void>;
}

export class LocalCluster implements Cluster {
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

  readonly scheduler: Scheduler;
  readonly secret: string;
  /** Workers at the start (`scale` and `adapt` change how many there are: `workers`). */
  readonly nWorkers: number;
  readonly threadsPerWorker: number;
  readonly processes: boolean;
  readonly #options: LocalClusterOptions;
  readonly #start: Omit<WorkerStart, 'name' | 'scheduler'>;
  /** The workers' names now, in the order they were started. */
  readonly #names: string[];
  #nextWorker: number;
  /** Resolves once the scheduler listens (and the dashboard is up); rejects if it cannot start. */
  readonly #started: Promise<void>;

  /**
   * Starts a cluster: its worker processes first (they boot while the scheduler starts), then
   * its scheduler and dashboard. Pass it to `new Client(cluster)`; `await cluster.ready` for all
   * its workers to have joined. `LocalCluster.start(options)` does both and awaits them.
   */
  constructor(options: LocalClusterOptions = {}) {
    const { nWorkers, threadsPerWorker } = defaultSizing(availableParallelism(), options.nWorkers, options.threadsPerWorker);
    if (!Number.isInteger(nWorkers) || nWorkers < 1) throw new RangeError(`nWorkers must be a positive integer, got ${nWorkers}`);
    if (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1) throw new RangeError(`threadsPerWorker must be a positive integer, got ${threadsPerWorker}`);
    this.#options = options;
    this.nWorkers = nWorkers;
    this.threadsPerWorker = threadsPerWorker;
    this.processes = options.processes ?? true;
    const memoryLimit = parseMemoryLimit(options.memoryLimit, nWorkers);
    const profileIntervalMs = profileInterval(options.profile);
    this.#names = Array.from({ length: nWorkers }, (_, i) => `worker-${i}`);
    this.#nextWorker = nWorkers;
    if (this.processes) this.#nanny = forkNanny(this.#names, threadsPerWorker, profileIntervalMs !== null);
    this.secret = randomBytes(24).toString('base64url');
    this.#transport = this.processes ? socketTransport(this.secret) : inprocTransport;
    this.scheduler = new Scheduler({ listen: this.processes ? `tcp://127.0.0.1:${options.schedulerPort ?? 0}` : 'inproc://', transport: this.#transport, validate: options.validate, allowedFailures: options.allowedFailures, workerTtlMs: options.workerTtlMs, unref: this.processes });
    this.scheduler.profile.on = profileIntervalMs !== null;
    if (!this.processes) {
      // in-process workers have no supervisor to start them again: the cluster does it
      this.scheduler.restartInprocess = async () => {
        const names = this.#inproc.map((w) => w.options.name);
        await Promise.all(this.#inproc.splice(0).map((w) => w.close()));
        await Promise.all(names.map((name) => this.#startInproc(name)));
      };
    }
    this.#start = { op: 'start', secret: this.secret, nthreads: threadsPerWorker, memoryLimit, memory: memoryThresholds(), profileIntervalMs };
    this.#started = this.#begin();
    this.up = this.#started.then(() => this.#joined);
    // starting holds the event loop (its sockets and processes never do): `await LocalCluster.start()`
    // at the top level of a module resolves instead of ending the program with exit code 13
    const starting = setInterval(() => undefined, 1 << 30);
    this.up.then(
      () => clearInterval(starting),
      () => clearInterval(starting),
    );
    this.#started.catch(() => undefined);
  }

  readonly #transport: ReturnType<typeof socketTransport>;
  #joined: Promise<void> = Promise.resolve();

  /** Resolves once every worker has joined its scheduler (`up`). */
  get ready(): Promise<void> {
    return this.up;
  }

  async #begin(): Promise<void> {
    try {
      await this.scheduler.start();
    } catch (error) {
      this.#nanny?.kill('SIGKILL');
      throw error;
    }
    try {
      this.dashboard = await startDashboard(this.scheduler, this.#options);
    } catch (error) {
      this.#nanny?.kill('SIGKILL');
      await this.scheduler.close();
      throw error;
    }
    const joined = this.#waitForWorkers(this.nWorkers);
    if (this.#nanny !== undefined) this.#adopt(this.#nanny, { ...this.#start, scheduler: this.scheduler.address });
    const started = this.processes ? Promise.resolve() : Promise.all(this.#names.map((name) => this.#startInproc(name)));
    this.#joined = Promise.all([joined, started]).then(
      () => undefined,
      async (error: unknown) => {
        await this.close();
        throw error;
      },
    );
    this.#joined.catch(() => undefined);
  }

  async #startInproc(name: string): Promise<void> {
    const w = new Worker({ scheduler: this.scheduler.address, name, nthreads: this.threadsPerWorker, listen: 'inproc://', transport: this.#transport, memoryLimit: this.#start.memoryLimit, memory: this.#start.memory, profileIntervalMs: this.#start.profileIntervalMs });
    this.#inproc.push(w);
    await w.start();
  }

  get schedulerAddress(): string {
    return this.scheduler.address;
  }

  /** The workers' names now. */
  get workers(): readonly string[] {
    return [...this.#names];
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
   */
  static async launch(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const cluster = new LocalCluster(options);
    await cluster.#started;
    return cluster;
  }

  /** Resolves once the scheduler listens (a client connects then). */
  get listening(): Promise<void> {
    return this.#started;
  }

  /** Tells the nanny, unless the cluster is closing (its channel may be gone). */
  #tellNanny(message: ToNanny): void {
    const nanny = this.#nanny;
    if (this.#closed || nanny === undefined || !nanny.connected) return;
    nanny.send(message, (error) => {
      if (error !== null && !this.#closed) process.emitWarning(`the cluster's nanny did not take ${message.op}: ${error.message}`, { code: 'SKEIN_NANNY' });
    });
  }

  /** Cancels every future and starts every worker again; resolves once they are all back (as `client.restart()`). */
  async restart(): Promise<void> {
    await this.#started;
    await this.scheduler.restart(30_000, this.scheduler.restartInprocess);
  }

  /** When the worker count changed, and to what (scale, adapt), from the start. */
  readonly scaleLog: Array<{ readonly time: number; readonly workers: number }> = [];
  #scaling: Promise<void> = Promise.resolve();
  #adaptive: Adaptive | undefined;

  /**
   * Sets the number of workers: new ones start (and join); when there are fewer, the idlest retire,
   * their results copied to workers that stay first (nothing is computed again). Resolves once the
   * scheduler has exactly the workers asked for.
   */
  scale(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`scale takes a worker count (an integer >= 0), got ${n}`);
    const next = this.#scaling.then(() => this.#scaleTo(n));
    this.#scaling = next.catch(() => undefined);
    return next;
  }

  async #scaleTo(n: number): Promise<void> {
    await this.#started;
    if (this.#closed || n === this.#names.length) return;
    if (n > this.#names.length) {
      const names = Array.from({ length: n - this.#names.length }, () => `worker-${this.#nextWorker++}`);
      this.#names.push(...names);
      this.scaleLog.push({ time: Date.now(), workers: this.#names.length });
      if (this.#nanny !== undefined) this.#tellNanny({ op: 'add', names });
      else await Promise.all(names.map((name) => this.#startInproc(name)));
      return this.#workersAre(`${names.join(', ')} to join`, (now) => names.every((name) => now.has(name)));
    }
    // the idlest leave: nothing running, fewest results
    const byName = new Map([...this.scheduler.state.workers.values()].map((ws) => [ws.name, ws]));
    const leaving = [...this.#names]
      .sort((a, b) => {
        const x = byName.get(a);
        const y = byName.get(b);
        return (x?.processing.size ?? -1) - (y?.processing.size ?? -1) || (x?.hasWhat.size ?? -1) - (y?.hasWhat.size ?? -1);
      })
      .slice(0, this.#names.length - n);
    await this.scheduler.retire(leaving.map((name) => byName.get(name)?.address).filter((a): a is string => a !== undefined));
    if (this.#closed) return; // closed while the results moved: nothing left to scale
    for (const name of leaving) this.#names.splice(this.#names.indexOf(name), 1);
    this.scaleLog.push({ time: Date.now(), workers: this.#names.length });
    if (this.#nanny !== undefined) this.#tellNanny({ op: 'remove', names: leaving });
    else {
      for (const w of this.#inproc.filter((w) => leaving.includes(w.options.name))) {
        this.#inproc.splice(this.#inproc.indexOf(w), 1);
        await w.close();
      }
    }
    await this.#workersAre(`${leaving.join(', ')} to leave`, (now) => leaving.every((name) => !now.has(name)));
  }

  /** Resolves once the scheduler's workers (by name) pass `test`; rejects after 60 s saying what it waited for. */
  async #workersAre(what: string, test: (names: ReadonlySet<string>) => boolean): Promise<void> {
    const end = Date.now() + 60_000;
    while (!this.#closed) {
      if (test(new Set([...this.scheduler.state.workers.values()].map((ws) => ws.name)))) return;
      if (Date.now() > end) throw new Error(`scale: waited 60 s for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Scales with the work (Dask's `adapt`): every `interval` it estimates the work queued and
   * running; more than `targetDuration` of it per worker thread adds workers at once (up to
   * `maximum`), and `waitCount` looks in a row wanting fewer retire the idlest (down to `minimum`).
   * Durations in ms or as '200ms', '5s'. Returns the policy; `stop()` ends it (the cluster's
   * `close` does too; adapting again replaces it).
   */
  adapt(options: AdaptOptions = {}): Adaptive {
    this.#adaptive?.stop();
    const adaptive = new Adaptive(this, options);
    this.#adaptive = adaptive;
    return adaptive;
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
    this.#adaptive?.stop();
    // closed before every worker joined: whoever waits for them hears it
    this.#failStart?.(Errors.clientClosed());
    const n = this.#nanny;
    const exited = new Promise<void>((resolve) => {
      if (n === undefined || n.exitCode !== null || n.signalCode !== null) return resolve();
      n.once('exit', () => resolve());
      n.ref();
      try {
        n.send({ op: 'close' } satisfies ToNanny, (error) => error !== null && n.kill('SIGKILL'));
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

/** A duration in ms: a number, or a string such as '200ms', '5s', '2m'. */
export function parseDuration(value: number | string, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value) : null;
  if (!m) throw new TypeError(`${what} must be milliseconds or a duration such as '200ms', '5s' or '2m'; got ${JSON.stringify(value)}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms').toLowerCase() as 'ms']!;
}

export interface AdaptOptions {
  /** Fewest workers (default 0). */
  readonly minimum?: number;
  /** Most workers (default: no limit). */
  readonly maximum?: number;
  /** Work per worker thread worth adding workers for (default '5s'). */
  readonly targetDuration?: number | string;
  /** How often to look (default '1s'). */
  readonly interval?: number | string;
  /** Looks in a row that want fewer workers before any retire (default 3). */
  readonly waitCount?: number;
}

/** A cluster's adaptive scaling policy (`cluster.adapt`): Dask's, with Dask's defaults. */
export class Adaptive {
  readonly minimum: number;
  readonly maximum: number;
  readonly targetMs: number;
  readonly intervalMs: number;
  readonly waitCount: number;
  #timer: NodeJS.Timeout;
  #wantFewer = 0;
  #busy = false;

  constructor(
    readonly cluster: AdaptTarget,
    options: AdaptOptions,
  ) {
    this.minimum = options.minimum ?? 0;
    this.maximum = options.maximum ?? Infinity;
    if (!Number.isInteger(this.minimum) || this.minimum < 0 || !(this.maximum >= this.minimum)) throw new RangeError(`adapt needs 0 <= minimum <= maximum (whole workers); got minimum ${this.minimum}, maximum ${this.maximum}`);
    this.targetMs = parseDuration(options.targetDuration ?? '5s', 'targetDuration');
    this.intervalMs = parseDuration(options.interval ?? '1s', 'interval');
    this.waitCount = options.waitCount ?? 3;
    this.#timer = setInterval(() => void this.#look(), this.intervalMs);
    this.#timer.unref();
    void this.#look();
  }

  /** The workers the work asks for now, within minimum and maximum. */
  recommendation(): number {
    const { workMs, tasks } = this.cluster.scheduler.state.workload();
    const threads = this.cluster.threadsPerWorker;
    // enough threads to do the work within the target, never more workers than tasks to give them
    let want = Math.ceil(workMs / this.targetMs / threads);
    want = Math.min(want, Math.ceil(tasks / threads));
    if (tasks > 0) want = Math.max(want, 1);
    return Math.max(this.minimum, Math.min(this.maximum, want));
  }

  async #look(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const want = this.recommendation();
      const have = this.cluster.workers.length;
      if (want > have) {
        this.#wantFewer = 0;
        await this.cluster.scale(want);
      } else if (want < have) {
        if (++this.#wantFewer >= this.waitCount) {
          this.#wantFewer = 0;
          await this.cluster.scale(want);
        }
      } else this.#wantFewer = 0;
    } catch {
      // a cluster closing meanwhile: the next look (if any) tries again
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
