/**
 * What SlurmCluster and KubeCluster share, as dask-jobqueue's JobQueueCluster does for its batch
 * systems: a scheduler in this process, workers started elsewhere by a *job* (a batch job, a pod)
 * that runs `skein worker` with the scheduler's address. The cluster counts jobs: `scale({ jobs })`
 * submits or cancels them, `adapt({ minimumJobs, maximumJobs })` follows the work, `close()`
 * cancels every job it submitted. A job's workers are named `<job id>-<i>`, so the scheduler's
 * workers are matched to the job that started them.
 *
 * A subclass says how a job is submitted, listed and cancelled; nothing here knows SLURM or
 * Kubernetes.
 */
import { hostname } from 'node:os';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Adaptive, type AdaptOptions, type Cluster, parseMemoryLimit, startDashboard } from './cluster.js';
import { type Transport, socketTransport } from './comm.js';
import type { Dashboard } from './dashboard.js';
import { natsTransport } from './natsComm.js';
import { Scheduler } from './scheduler.js';
import { defaultSecretFile, newSecret, writeSecret } from './secret.js';

export interface JobClusterOptions {
  /** Cores of one job; its workers share them (threads per worker: cores / processes). */
  readonly cores: number;
  /** Memory of one job ('2GB', '512MiB', bytes); each worker's memory limit is its share. */
  readonly memory: number | string;
  /** Worker processes one job starts (default 1). */
  readonly processes?: number;
  /**
   * Listen through NATS (`nats://HOST:4222`) instead of a port: workers reach the scheduler there.
   * Without it the scheduler listens on `host` with a secret in `secretFile`.
   */
  readonly nats?: string;
  /** The address the scheduler listens on, reachable from where jobs run (default: this host's name). */
  readonly host?: string;
  /** Port (default 0: a free one). */
  readonly port?: number;
  /** Where the secret is written for workers to read (a shared filesystem); default: the file `skein worker` looks in on this machine. */
  readonly secretFile?: string;
  /** The dashboard's address (default 127.0.0.1:8787, the next free port if taken); null for none. */
  readonly dashboardAddress?: string | null;
  /** Worker deaths a task may cause before it fails (default 3). */
  readonly allowedFailures?: number;
}

/** `adapt` in jobs: as LocalCluster's, bounds counted in jobs. */
export interface AdaptJobsOptions extends Omit<AdaptOptions, 'minimum' | 'maximum'> {
  readonly minimumJobs?: number;
  readonly maximumJobs?: number;
}

/** A job this cluster submitted: its id, and whether it was seen running. */
export interface JobInfo {
  readonly id: string;
  state: string;
}

/** The command a job runs to start one worker: this Node.js and this package's CLI. */
export function skeinCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../bin/skein.js', import.meta.url))];
}

/** A word quoted for a POSIX shell (job scripts). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where and how a scheduler started by hand listens (`skein scheduler`, SlurmCluster,
 * KubeCluster): through NATS at `nats` (NATS's credentials the gate, no secret), else on
 * `host:port` with `secret`.
 */
export function schedulerListen(where: { readonly nats?: string; readonly host: string; readonly port: number }, secret: string): { listen: string; transport: Transport } {
  if (where.nats !== undefined) return { listen: where.nats, transport: natsTransport(where.nats, '') };
  return { listen: `tcp://${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`, transport: socketTransport(secret) };
}

export abstract class JobCluster implements Cluster {
  readonly scheduler: Scheduler;
  readonly secret: string;
  readonly cores: number;
  readonly processes: number;
  readonly threadsPerWorker: number;
  /** Bytes of one job. */
  readonly jobMemory: number;
  /** Each worker's memory limit (bytes): its share of the job's. */
  readonly workerMemory: number;
  dashboard: Dashboard | undefined;
  /** The jobs submitted and not cancelled, oldest first. */
  readonly jobs: JobInfo[] = [];
  readonly #options: JobClusterOptions;
  readonly #started: Promise<void>;
  #secretFile: string | undefined;
  #scaling: Promise<void> = Promise.resolve();
  #adaptive: Adaptive | undefined;
  #closed = false;

  constructor(options: JobClusterOptions) {
    if (!Number.isInteger(options.cores) || options.cores < 1) throw new RangeError(`cores must be a positive integer (the cores of one job), got ${options.cores}`);
    const processes = options.processes ?? 1;
    if (!Number.isInteger(processes) || processes < 1 || processes > options.cores) throw new RangeError(`processes must be a whole number from 1 to cores (${options.cores}), got ${processes}`);
    const memory = parseMemoryLimit(options.memory, 1);
    if (memory === null || memory < 2 ** 20) throw new RangeError(`memory must be the memory of one job, such as '2GB'; got ${JSON.stringify(options.memory)}`);
    this.#options = options;
    this.cores = options.cores;
    this.processes = processes;
    this.threadsPerWorker = Math.max(1, Math.floor(options.cores / processes));
    this.jobMemory = memory;
    this.workerMemory = Math.floor(memory / processes);
    this.secret = options.nats === undefined ? newSecret() : '';
    this.scheduler = new Scheduler({ ...schedulerListen({ nats: options.nats, host: options.host ?? hostname(), port: options.port ?? 0 }, this.secret), allowedFailures: options.allowedFailures });
    this.#started = this.#begin();
    this.#started.catch(() => undefined);
  }

  async #begin(): Promise<void> {
    await this.scheduler.start();
    try {
      if (this.#options.nats === undefined) {
        this.#secretFile = this.#options.secretFile ?? defaultSecretFile(this.scheduler.address);
        writeSecret(this.#secretFile, this.secret);
      }
      this.dashboard = await startDashboard(this.scheduler, { dashboardAddress: this.#options.dashboardAddress });
    } catch (error) {
      await this.scheduler.close();
      throw error;
    }
  }

  /** `cluster` once its scheduler listens; closed (and the error thrown) if it cannot start. */
  protected static async listeningOrClosed<T extends JobCluster>(cluster: T): Promise<T> {
    try {
      await cluster.listening;
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Resolves once the scheduler listens. */
  get listening(): Promise<void> {
    return this.#started;
  }

  /** The scheduler listens; jobs join when their batch system starts them (`waitForWorkers`). */
  get up(): Promise<void> {
    return this.#started;
  }

  get schedulerAddress(): string {
    return this.scheduler.address;
  }

  /** The worker command line one job runs, `index` its worker's place in the job (0 … processes-1); `jobId` a shell expression or a name. */
  protected workerCommand(jobId: string): string[][] {
    const memory = String(this.workerMemory);
    // over NATS, the address as given: with the credentials workers need (the scheduler's own shows none)
    const joined = this.#options.nats === undefined ? [this.scheduler.address, '--secret-file', this.#secretFile ?? ''] : ['--nats', this.#options.nats];
    return Array.from({ length: this.processes }, (_, i) => [...this.launcher(), 'worker', ...joined, '--nthreads', String(this.threadsPerWorker), '--memory-limit', memory, '--name', `${jobId}-${i}`]);
  }

  /** The words that start Skein's CLI where a job runs (default: this Node.js and this package's). */
  protected launcher(): string[] {
    return skeinCommand();
  }

  /** Submits one job; resolves to its id. */
  protected abstract submit(): Promise<string>;
  /** Cancels these jobs (gone or not). */
  protected abstract cancel(ids: readonly string[]): Promise<void>;
  /** Each of these jobs' state now, by id; a job the system no longer lists is absent. */
  protected abstract states(ids: readonly string[]): Promise<Map<string, string>>;
  /** The prefix of the names of a job's workers. */
  protected abstract workerPrefix(id: string): string;

  /**
   * Sets the number of jobs (`{ jobs }`) or of workers (a number, or `{ workers }`: rounded up to
   * whole jobs). More: jobs are submitted (resolves once they are, not once they run: see
   * `waitForWorkers`). Fewer: jobs not yet running are cancelled first, then the idlest running
   * ones, whose workers retire first (their results copied to workers that stay).
   */
  scale(target: number | { readonly jobs?: number; readonly workers?: number }): Promise<void> {
    const jobs = typeof target === 'number' ? Math.ceil(target / this.processes) : target.jobs ?? Math.ceil((target.workers ?? 0) / this.processes);
    if (!Number.isInteger(jobs) || jobs < 0) throw new RangeError(`scale takes a number of jobs or workers (whole, >= 0), got ${JSON.stringify(target)}`);
    const next = this.#scaling.then(() => this.#scaleTo(jobs));
    this.#scaling = next.catch(() => undefined);
    return next;
  }

  async #scaleTo(n: number): Promise<void> {
    await this.#started;
    if (this.#closed) return;
    while (this.jobs.length < n) this.jobs.push({ id: await this.submit(), state: 'PENDING' });
    if (this.jobs.length <= n) return;
    const byName = new Map([...this.scheduler.state.workers.values()].map((ws) => [ws.name, ws]));
    const workersOf = (job: JobInfo) => [...byName.values()].filter((ws) => ws.name.startsWith(`${this.workerPrefix(job.id)}-`));
    // jobs with no worker yet first (newest first), then the idlest
    const ranked = [...this.jobs].reverse().sort((a, b) => {
      const x = workersOf(a);
      const y = workersOf(b);
      const load = (ws: typeof x) => ws.reduce((s, w) => s + w.processing.size * 1e6 + w.hasWhat.size, 0);
      return Math.sign(x.length) - Math.sign(y.length) || load(x) - load(y);
    });
    const leaving = ranked.slice(0, this.jobs.length - n);
    const addresses = leaving.flatMap((job) => workersOf(job).map((ws) => ws.address));
    if (addresses.length > 0) await this.scheduler.retire(addresses);
    await this.cancel(leaving.map((j) => j.id));
    for (const job of leaving) this.jobs.splice(this.jobs.indexOf(job), 1);
  }

  /** Follows the work, as LocalCluster's `adapt`, in whole jobs. */
  adapt(options: AdaptJobsOptions = {}): Adaptive {
    this.#adaptive?.stop();
    const cluster = this;
    const target = {
      scheduler: this.scheduler,
      threadsPerWorker: this.threadsPerWorker,
      get workers(): readonly string[] {
        return Array.from({ length: cluster.jobs.length * cluster.processes }, (_, i) => String(i));
      },
      scale: (workers: number) => this.scale({ jobs: Math.ceil(workers / this.processes) }),
    };
    const bound = (jobs: number | undefined) => (jobs === undefined ? undefined : jobs * this.processes);
    this.#adaptive = new Adaptive(target, { ...options, minimum: bound(options.minimumJobs), maximum: bound(options.maximumJobs) });
    return this.#adaptive;
  }

  /** Resolves once `n` workers have joined; rejects after `timeoutMs` saying what the jobs are doing. */
  async waitForWorkers(n: number, timeoutMs = 120_000): Promise<void> {
    await this.#started;
    const end = Date.now() + timeoutMs;
    while (this.scheduler.state.workers.size < n) {
      if (this.#closed) throw new Error('waitForWorkers: the cluster closed');
      if (Date.now() > end) {
        const states = await this.states(this.jobs.map((j) => j.id));
        const said = this.jobs.map((j) => `${j.id}: ${states.get(j.id) ?? 'gone'}`).join(', ') || 'no job submitted (call scale first)';
        throw new Error(`waitForWorkers: ${this.scheduler.state.workers.size} of ${n} workers joined within ${timeoutMs / 1000} s; jobs: ${said}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Cancels every job it submitted, then stops the scheduler and the dashboard. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#adaptive?.stop();
    await this.#scaling;
    await this.#started.catch(() => undefined);
    const ids = this.jobs.splice(0).map((j) => j.id);
    try {
      if (ids.length > 0) await this.cancel(ids);
    } finally {
      await this.dashboard?.close();
      await this.scheduler.close();
      if (this.#secretFile !== undefined) rmSync(this.#secretFile, { force: true });
    }
  }

  /** Memory per job, for the batch system's own unit: whole MiB. */
  protected get jobMemoryMiB(): number {
    return Math.floor(this.jobMemory / 2 ** 20);
  }

}
