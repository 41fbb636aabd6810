/**
 * A distributed worker: it registers with the scheduler, runs the tasks it is given on a piscina
 * pool of `nthreads` threads (the same batches and worker file as the threads scheduler), keeps
 * every result it computes, and serves them to the workers and clients that ask (`get-data` on its
 * data address). A task's inputs held elsewhere are fetched from their holders directly, never
 * through the scheduler; a holder that no longer has one is reported (`missing-data`) and the
 * scheduler sorts it out.
 *
 * The same class runs inside a worker process (workerMain.ts, over sockets) and inside the
 * client's process for `processes: false` clusters (in-process comms).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { comparePriority } from './priority.js';
import { clock } from '../core/timings.js';
import { REFUSED_EXIT } from './supervise.js';
import { cpuMeter } from '../diagnostics/resources.js';
import { workersNeedLoader } from '../loader/register.js';
import { createThreadPool, runOn } from '../schedulers/threadPool.js';
import { warmupBatch } from '../workers/spawn.js';
import type { FnRef, ProfileSamples, WireBatch, WireError, WireLink, WireOutcome } from '../workers/protocol.js';
import { type Comm, type HandleOptions, type Listener, type Transport, overNats } from './comm.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { QueueItem, QueueTaker } from './natsQueue.js';
import type { DataReply, DataRequest, ToScheduler, ToWorker, WireValue } from './protocol.js';
import { type ProfileNode, emptyNode, mergeInto } from '../diagnostics/flame.js';
import { formatBytes, sizeOf } from '../core/sizeOf.js';
import { DataStore, localDir } from './dataStore.js';
import { runExported } from './runExported.js';
import { type PluginWorker, UPLOADED_MODULES, type WirePlugin, type WorkerPlugin, type WorkerTaskState, callPlugin, fromWirePlugin } from './plugins.js';

export interface WorkerOptions {
  readonly scheduler: string;
  readonly name: string;
  readonly nthreads: number;
  /** Where to serve data: `tcp://127.0.0.1:0`, or `inproc://` in the client's process. */
  readonly listen: string;
  readonly transport: Transport;
  readonly memoryLimit?: number | null;
  /** Tasks that return promises waiting at once in one thread (default 16, as `asyncTasksPerWorker`). */
  readonly asyncTasks?: number;
  /** Called once the worker has closed (a worker process ends then). */
  readonly onClosed?: () => void;
  /** A pool of `nthreads` threads already started (a worker process starts it before it knows its scheduler). */
  readonly pool?: Piscina;
  /**
   * Fractions of `memoryLimit` (Dask's `distributed.worker.memory.*`; null: that step off):
   * results over `target` are spilled to disk, oldest first; process memory over `spill` spills
   * too; over `pause` the worker starts no new task until it is under again; over `terminate` it
   * tells the scheduler and ends (its nanny starts it again; only where `exit` is given).
   */
  readonly memory?: MemoryThresholds;
  /** Ends this worker's process (a worker process's own; absent in-process, where `terminate` does not apply). */
  readonly exit?: (code: number) => void;
  /** Sample the task threads' stacks every this many ms (V8's sampling profiler), sent to the scheduler each heartbeat; null or absent: off. */
  readonly profileIntervalMs?: number | null;
}

type Compute = Extract<ToWorker, { op: 'compute-task' }>;

/** See WorkerOptions.memory. */
export interface MemoryThresholds {
  readonly target: number | null;
  readonly spill: number | null;
  readonly pause: number | null;
  readonly terminate: number | null;
}

/** Dask's defaults. */
export const MEMORY_THRESHOLDS: MemoryThresholds = { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 };

/** Results copied from a retiring worker per request. */
const ACQUIRE_AT_ONCE = 8;

/** A batch's inputs stop growing past this many bytes (a batch of one task may hold more). */
const BATCH_INPUT_BYTES = 16 * 1024 * 1024;

/** Spilling this much makes the worker collect garbage (where gc is exposed). */
const SPILL_GC_BYTES = 32 * 1024 * 1024;

/** How often a worker with a memory limit looks at its memory (Dask's monitor interval). */
const MEMORY_CHECK_MS = 100;

/** Node's gc, when the process was started with --expose-gc (worker processes are). */
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * Collects garbage now, and again once the event loop turns: V8 gives the memory of dropped
 * ArrayBuffers back only after a later collection (measured: a first gc left 70 of 100 MB).
 */
function collectNow(): void {
  if (collectGarbage === undefined) return;
  collectGarbage();
  setTimeout(collectGarbage, 20).unref();
}
/**
 * A task given to this worker, with the functions it calls as one string (batches group by it).
 * Each assignment is its own object: a key freed and given again is a new one, and only the
 * current assignment of a key may report it.
 */
type Ready = Compute & { readonly signature: string };

/** Most tasks handed to the pool in one batch. */
const MAX_BATCH = 256;
/** Most links of a chain run in one batch (the scheduler sends 32 ahead). */
const MAX_CHAIN = 64;
/** A batch holds about this much work (by the measured durations of its functions), so what waits stays stealable. */
const BATCH_TARGET_MS = 5;
const HEARTBEAT_MS = 1000;
/** Most tasks of the shared queue a worker holds per thread (claimed, or given and not finished). */
const MAX_CLAIMED_PER_THREAD = 16;
/** A worker that lost its scheduler over NATS waits this long for one to join (the same, or one started again). */
const WORKER_REJOIN_MS = 60_000;
/** A shared queue's message refused for now (its task runs on a worker not yet taken as dead) comes again after this long. */
const CLAIM_AGAIN_MS = 1000;

/** A pool whose threads load Skein's worker code at once, not with the first task (`profiled`: see createThreadPool's `eventLoop`). */
export function startWarmPool(nthreads: number, profiled = false): Piscina {
  const pool = createThreadPool(nthreads, profiled);
  const loads = Array.from({ length: nthreads }, () => pool.run(warmupBatch([], false)).catch(() => undefined));
  warming.set(pool, Promise.all(loads).then(() => undefined));
  return pool;
}

/**
 * Threads still loading, by pool. A thread terminated while Node loads its entry module aborts
 * the whole process (Node 20.19+, "Module::IsGraphAsync"), so a pool is destroyed only once its
 * threads have loaded, or after a bound.
 */
const warming = new WeakMap<Piscina, Promise<void>>();

export async function destroyPool(pool: Piscina): Promise<void> {
  const loaded = warming.get(pool);
  if (loaded !== undefined) await Promise.race([loaded, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  await pool.destroy();
}

export class Worker {
  readonly #data: DataStore;
  /** Inputs fetched from other workers, with how many tasks here still need them. */
  readonly #fetched = new Map<string, { value: WireValue; users: number }>();
  /** Tasks whose inputs are all here, waiting for a thread: sorted by priority from `#readyHead` when not `#unsorted`. */
  #ready: Ready[] = [];
  #readyHead = 0;
  #unsorted = false;
  /** Tasks given to this worker and not finished, by key. */
  readonly #assigned = new Map<string, Ready>();
  /** Tasks sent ahead, by the key of the task before them in their chain (run when it finishes here). */
  readonly #after = new Map<string, Ready[]>();
  #inFlight = 0;
  /** Tasks given a priority by their user (`client.options({ priority })`) waiting here, and in batches in flight. */
  #prioritizedReady = 0;
  #prioritizedRunning = 0;
  /** Mean run time (ms) of tasks by the functions they call (their signature). */
  readonly #durations = new Map<string, number>();
  /** Batches running, each with the keys it runs and how to stop it. */
  readonly #running = new Set<{ tasks: readonly Ready[]; stop: AbortController }>();
  #pool: Piscina | undefined;
  #comm: Comm<ToWorker, ToScheduler> | undefined;
  #listener: Listener | undefined;
  readonly #peers = new Map<string, Promise<Comm<DataReply, DataRequest>>>();
  #heartbeat: NodeJS.Timeout | undefined;
  /** Its key in the NATS liveness bucket (over NATS with JetStream). */
  #announced: { beat(): void; stop(): Promise<void> } | undefined;
  /** Over NATS: the shared work queue this worker takes tasks from when it has room (natsQueue.ts). */
  #taker: QueueTaker | undefined;
  /** Messages of the shared queue claimed and not yet granted or refused, by key, with when the claim went (ms). */
  readonly #claimed = new Map<string, { item: QueueItem; readonly sent: number }>();
  /** Messages of tasks granted here, acknowledged when the task ends, by key. */
  readonly #holding = new Map<string, QueueItem>();
  #working: NodeJS.Timeout | undefined;
  /** The mean time a claim takes to be granted, and a task to run (ms). */
  #claimMs = 2;
  #taskMs = 1;
  readonly #abort = new AbortController();
  #closed = false;
  /** With profiling: where the threads post their samples, and those not sent to the scheduler yet. */
  #samples: BroadcastChannel | undefined;
  #unsent: ProfileNode | undefined;
  #profileChannel = '';
  #memoryTimer: NodeJS.Timeout | undefined;
  /** Over the pause threshold: no new task starts here. */
  #paused = false;
  address = '';
  /** Worker plugins set up here, by name; those with `transition`; the task states they follow. */
  readonly #plugins = new Map<string, WorkerPlugin>();
  #watchers: Array<readonly [string, WorkerPlugin]> = [];
  readonly #states = new Map<string, WorkerTaskState>();
  /** Plugin setups and teardowns, one after the other. */
  #pluginOps: Promise<unknown> = Promise.resolve();
  /** Set while the plugins it got as it joined are set up: no task starts before. */
  #settingUp = false;
  /** Modules uploaded here (client.uploadFile): the original URL → this worker's copy. */
  readonly #uploaded = new Map<string, string>();
  #localDir: string | undefined;
  /** What worker plugins get. */
  readonly #view: PluginWorker & { readonly [UPLOADED_MODULES]: Map<string, string> } = ((w: Worker) => ({
    get name() {
      return w.options.name;
    },
    get address() {
      return w.address;
    },
    pid: process.pid,
    get nthreads() {
      return w.options.nthreads;
    },
    get memoryLimit() {
      return w.options.memoryLimit ?? null;
    },
    keys: () => [...w.#data.keys()],
    get localDirectory() {
      if (w.#localDir === undefined) {
        w.#localDir = localDir(w.options.name, process.pid);
        mkdirSync(w.#localDir, { recursive: true, mode: 0o700 });
      }
      return w.#localDir;
    },
    [UPLOADED_MODULES]: w.#uploaded,
  }))(this);

  constructor(readonly options: WorkerOptions) {
    this.#data = new DataStore(options.name);
  }

  /** Starts the pool, serves data, registers with the scheduler. Resolves once registered. */
  async start(): Promise<void> {
    const { transport } = this.options;
    this.#pool = this.options.pool ?? startWarmPool(this.options.nthreads, this.options.profileIntervalMs != null);
    if (this.options.profileIntervalMs != null) {
      // one channel per worker (an in-process cluster has several in one process)
      this.#profileChannel = `skein-profile-${process.pid}-${this.options.name}`;
      const samples = new BroadcastChannel(this.#profileChannel);
      samples.unref();
      samples.onmessage = (event) => mergeInto((this.#unsent ??= emptyNode()), (event as { data: ProfileSamples }).data.root);
      this.#samples = samples;
    }
    this.#listener = await transport.listen<DataRequest, DataReply>(this.options.listen, (comm) => this.#serve(comm));
    this.address = this.#listener.address;
    await this.#join(await transport.connect<ToWorker, ToScheduler>(this.options.scheduler)).catch((error: unknown) => {
      // refused (said on stderr, and closing): not an error of start
      if (!this.#closed) throw error;
    });
    if (this.#closed) return;
    if (overNats(this.options.scheduler)) {
      const { processConnection, parseNatsAddress, onSchedulerAnnounced } = await import('./natsComm.js');
      const nc = await processConnection();
      if (nc !== undefined) {
        // this worker's key in the liveness bucket, put at each heartbeat (natsLiveness.ts)
        this.#announced = await (await import('./natsLiveness.js')).announceWorker(nc, this.options.scheduler, this.address, { name: this.options.name, nthreads: this.options.nthreads });
        if (!this.#closed) await this.#takeFromQueue(nc, parseNatsAddress(this.options.scheduler).prefix);
        // a scheduler started after the one this worker knows: joined at once (not after its liveness)
        this.#unannounce = onSchedulerAnnounced(nc, this.options.scheduler, (instance) => {
          const comm = this.#comm;
          if (comm !== undefined && this.#schedulerInstance !== undefined && instance !== this.#schedulerInstance) {
            this.#schedulerLost(comm, new Error('another scheduler started'), true);
            comm.close();
          }
        });
      }
    }
    const cpu = cpuMeter(); // over each beat, every thread of the process
    this.#heartbeat = setInterval(() => {
      this.#announced?.beat();
      const received = this.#receivedFrom.size === 0 ? undefined : [...this.#receivedFrom];
      this.#receivedFrom = new Map();
      this.#comm?.send({ op: 'heartbeat', executing: Math.min(this.#inFlight, this.options.nthreads), memory: process.memoryUsage.rss(), managed: this.#data.managed, spilled: this.#data.spilled, cpu: cpu(), received, clock: clock(), offset: this.#clockOffset });
      if (this.#unsent !== undefined) {
        this.#comm?.send({ op: 'profile', intervalMs: this.options.profileIntervalMs!, root: this.#unsent });
        this.#unsent = undefined;
      }
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
    if (this.options.memoryLimit) {
      this.#memoryTimer = setInterval(() => this.#checkMemory(), MEMORY_CHECK_MS);
      this.#memoryTimer.unref();
    }
  }

  /** Connects `comm` as this worker's line to the scheduler and registers (with the results it kept, if any). Resolves once registered. */
  #join(comm: Comm<ToWorker, ToScheduler>): Promise<void> {
    this.#comm = comm;
    const registered = new Promise<void>((resolve, reject) => {
      comm.onMessage((message) => {
        if (message.op === 'registered') {
          this.#schedulerInstance = message.instance;
          resolve();
        }
        this.#handle(message);
      });
      comm.onClose((error) => {
        reject(error ?? new Error('the scheduler closed the connection'));
        this.#schedulerLost(comm, error);
      });
    });
    registered.catch(() => undefined);
    const held = this.#data.size === 0 ? undefined : [...this.#data.keys()].map((key) => [key, this.#data.bytes(key)] as const);
    comm.send({ op: 'register-worker', name: this.options.name, dataAddress: this.address, nthreads: this.options.nthreads, pid: process.pid, memoryLimit: this.options.memoryLimit ?? null, clock: clock(), node: process.versions.node, held });
    return registered;
  }

  /** The scheduler's id (from `registered`): an announcement of another means it was started again. */
  #schedulerInstance: string | undefined;
  #unannounce: (() => void) | undefined;

  /**
   * The line to the scheduler ended. Closed, lost, or taken as gone by the scheduler: this worker
   * leaves (its supervisor starts a fresh one, which joins when it can). Over NATS, when another
   * scheduler announced itself at the address (`replaced`: one started again, which takes up its
   * journal), the worker keeps its results, stops what it was given, and joins the new one (for
   * WORKER_REJOIN_MS at most).
   */
  #schedulerLost(comm: Comm<ToWorker, ToScheduler>, error: Error | undefined, replaced = false): void {
    if (this.#closed || this.#comm !== comm) return;
    this.#comm = undefined;
    if (!replaced || !overNats(this.options.scheduler) || this.#schedulerInstance === undefined) {
      if (error !== undefined) process.stderr.write(`skein worker ${this.options.name}: lost the scheduler (${error.message}); leaving\n`);
      void this.close();
      return;
    }
    process.stderr.write(`skein worker ${this.options.name}: another scheduler started at the address; keeping ${this.#data.size} ${this.#data.size === 1 ? 'result' : 'results'} for the next one, for ${WORKER_REJOIN_MS / 1000} s\n`);
    this.#dropAssigned();
    void this.#rejoin();
  }

  /** What the scheduler that went had given this worker is stopped: the next one gives work anew. */
  #dropAssigned(): void {
    this.#assigned.clear();
    this.#ready = [];
    this.#readyHead = 0;
    this.#prioritizedReady = 0;
    this.#after.clear();
    for (const run of this.#running) run.stop.abort();
    this.#giveBackQueued();
  }

  /** The shared queue's messages claimed or held here go to another worker at once, not after the ack wait. */
  #giveBackQueued(): void {
    for (const claim of this.#claimed.values()) claim.item.giveBack();
    for (const item of this.#holding.values()) item.giveBack();
    this.#claimed.clear();
    this.#holding.clear();
  }

  async #rejoin(): Promise<void> {
    const until = Date.now() + WORKER_REJOIN_MS;
    while (!this.#closed && Date.now() < until) {
      try {
        const comm = await this.options.transport.connect<ToWorker, ToScheduler>(this.options.scheduler);
        if (this.#closed) return comm.close();
        await this.#join(comm);
        process.stderr.write(`skein worker ${this.options.name}: joined the scheduler again, with ${this.#data.size} ${this.#data.size === 1 ? 'result' : 'results'}\n`);
        this.#taker?.refill();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
    if (this.#closed) return;
    const { shownAddress } = await import('./natsComm.js');
    process.stderr.write(`skein worker ${this.options.name}: no scheduler answered at ${shownAddress(this.options.scheduler)} for ${WORKER_REJOIN_MS / 1000} s; leaving\n`);
    void this.close();
  }

  /**
   * Pull requests on the shared work queue for as many tasks as this worker has room for (twice
   * its threads, counting what it was given and what it claimed); each message pulled is claimed
   * from the scheduler, which grants it (`compute-task`) or refuses it. While a granted task runs,
   * JetStream hears every half ack-wait that it still does, so only a worker gone quiet has its
   * message delivered to another.
   */
  async #takeFromQueue(nc: NatsConnection, prefix: string): Promise<void> {
    const { openQueueTaker, ACK_WAIT_MS } = await import('./natsQueue.js');
    // enough claimed ahead that a thread finishing a task finds the next one here, not a claim's
    // round trip away: per thread, the round trip over the tasks' mean time, plus two
    const slots = (): number => {
      if (this.#closed || this.#paused) return 0;
      const perThread = Math.min(MAX_CLAIMED_PER_THREAD, 2 + Math.ceil(this.#claimMs / Math.max(this.#taskMs, 0.05)));
      return Math.max(0, perThread * this.options.nthreads - this.#assigned.size - this.#claimed.size);
    };
    this.#taker = await openQueueTaker(nc, prefix, slots, (item) => {
      // the same message again (an acknowledgement that did not arrive): kept, not claimed twice
      if (this.#holding.has(item.key)) return void this.#holding.set(item.key, item);
      const claim = this.#claimed.get(item.key);
      if (claim?.item.seq === item.seq) return void (claim.item = item);
      this.#claimed.set(item.key, { item, sent: performance.now() });
      this.#comm?.send({ op: 'claim', claims: [{ key: item.key, seq: item.seq, redelivered: item.redelivered }] });
    }).catch(() => undefined);
    if (this.#taker === undefined) return;
    this.#working = setInterval(() => {
      for (const item of this.#holding.values()) item.working();
      for (const claim of this.#claimed.values()) claim.item.working();
    }, ACK_WAIT_MS / 2);
    this.#working.unref();
  }

  /** A task of the shared queue ended here, or is not this worker's any more: its message leaves the queue. */
  #settled(key: string): void {
    const item = this.#holding.get(key);
    if (item === undefined) return;
    this.#holding.delete(key);
    item.done();
  }

  /** Bytes of results in memory and spilled to disk (tests, introspection). */
  get memory(): { managed: number; spilled: number; paused: boolean } {
    return { managed: this.#data.managed, spilled: this.#data.spilled, paused: this.#paused };
  }

  /** The memory limit's steps (WorkerOptions.memory), once per MEMORY_CHECK_MS. */
  #checkMemory(): void {
    const limit = this.options.memoryLimit;
    if (!limit || this.#closed) return;
    const t = this.options.memory ?? MEMORY_THRESHOLDS;
    const store = this.#data;
    this.#spillOverTarget();
    // anything spilled since the last look: its memory goes back now (V8 frees dropped buffers on a later collection)
    const moved = store.spilledTotal + store.unspilledTotal + store.peekedTotal;
    if (moved !== this.#spilledAtLastLook) {
      this.#spilledAtLastLook = moved;
      collectNow();
    }
    // paused, what was let go is collected now, not when V8 gets round to it
    if (this.#paused) collectNow();
    // in-process workers share their process with the client and each other: its memory is not theirs
    // to act on, so only the target (their own results) applies to them
    if (this.options.exit === undefined) return;
    let rss = process.memoryUsage.rss();
    if (t.spill !== null && rss > t.spill * limit) {
      // the process over the spill threshold: spill until it would be back at the target
      const freed = store.spill(rss - (t.target ?? t.spill) * limit);
      if (freed > 0 && collectGarbage !== undefined) {
        this.#spilledSinceGc = 0;
        collectNow();
        rss = process.memoryUsage.rss();
      }
    }
    if (t.terminate !== null && rss > t.terminate * limit) {
      // before a restart (which loses every result here), the last resort: everything to disk and a collection
      store.spill(Infinity);
      collectGarbage?.();
      rss = process.memoryUsage.rss();
      if (rss > t.terminate * limit) return this.#terminate(rss, limit, t.terminate);
    }
    // over the pause threshold with nothing left to spill and nothing running, waiting frees nothing:
    // the memory is the process's own (unmanaged), so the worker goes on, and says so once
    const stuck = store.managed === 0 && this.#running.size === 0 && this.#readyHead < this.#ready.length;
    if (stuck && this.#paused && !this.#saidStuck) {
      this.#saidStuck = true;
      process.stderr.write(`skein worker ${this.options.name}: its process holds ${formatBytes(rss)} of its ${formatBytes(limit)} memory limit with no result in memory (unmanaged memory: the process's own, or leaked by tasks); it goes on rather than wait for memory it cannot free. Raise memoryLimit, or look for what tasks keep (module-level caches, timers).\n`);
    }
    const paused = t.pause !== null && rss > t.pause * limit && !stuck;
    if (paused !== this.#paused) {
      this.#paused = paused;
      this.#comm?.send({ op: 'worker-paused', paused, memory: rss });
      if (!paused) {
        this.#pump();
        this.#taker?.refill();
      }
    }
  }

  /** Results over the memory target: the least recently used go to disk. */
  #spillOverTarget(): void {
    const limit = this.options.memoryLimit;
    const target = (this.options.memory ?? MEMORY_THRESHOLDS).target;
    if (limit && target !== null && this.#data.managed > target * limit) this.#collectAfter(this.#data.spill(this.#data.managed - target * limit));
  }

  #spilledAtLastLook = 0;
  #saidStuck = false;

  /** Spilled since the last collection (bytes): the values and their serialized copies are garbage now. */
  #spilledSinceGc = 0;

  /** Collects garbage once enough was spilled: V8 would free it later, while the process counts against its limit meanwhile. */
  #collectAfter(freed: number): void {
    this.#spilledSinceGc += freed;
    if (this.#spilledSinceGc < SPILL_GC_BYTES || collectGarbage === undefined) return;
    this.#spilledSinceGc = 0;
    collectNow();
  }

  /** Over the terminate threshold: tells the scheduler what it was running and how much memory it reached, then ends (its nanny starts it again). */
  #terminate(memory: number, limit: number, fraction: number): void {
    const running = [...new Set([...this.#running].flatMap((r) => r.tasks.map((t) => t.key)))];
    this.#comm?.send({ op: 'memory-exceeded', memory, limit, terminate: fraction, running });
    process.stderr.write(
      `skein worker ${this.options.name}: its process reached ${formatBytes(memory)} of its ${formatBytes(limit)} memory limit (memory.terminate ${fraction}); restarting it${running.length > 0 ? `; it was running ${running.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}${running.length > 5 ? ', …' : ''}` : ''}\n`,
    );
    this.#closed = true;
    clearInterval(this.#memoryTimer);
    clearInterval(this.#heartbeat);
    this.#comm?.close();
    this.#data.clear();
    // the socket writes what was sent before the process ends
    setTimeout(() => this.options.exit!(1), 100);
  }

  /** Keys held here (tests, introspection). */
  get keys(): string[] {
    return [...this.#data.keys()];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#memoryTimer);
    clearInterval(this.#working);
    this.#unannounce?.();
    this.#taker?.close();
    this.#giveBackQueued();
    this.#samples?.close();
    this.#abort.abort();
    await this.#announced?.stop();
    this.#comm?.close();
    await this.#teardownAll();
    for (const peer of this.#peers.values()) void peer.then((c) => c.close(), () => undefined);
    await this.#listener?.close();
    if (this.#pool !== undefined) await destroyPool(this.#pool);
    this.discardFiles();
    this.options.onClosed?.();
  }

  /** Removes what this worker wrote to disk (spilled results, its own folder) at once: its process is ending without a close. */
  discardFiles(): void {
    this.#data.clear();
    if (this.#localDir !== undefined) rmSync(this.#localDir, { recursive: true, force: true });
  }

  #handle(message: ToWorker): void {
    switch (message.op) {
      case 'clock':
        return this.#clockSample(message.clock, message.echo);
      case 'refused':
        process.stderr.write(`skein worker ${this.options.name}: refused by the scheduler: ${message.reason}\n`);
        // not started again by its supervisor: it would be refused again
        if (this.options.exit !== undefined) return this.options.exit(REFUSED_EXIT);
        return void this.close();
      case 'registered':
        this.#clockSample(message.clock, message.echo);
        if (message.plugins.length > 0) {
          this.#settingUp = true;
          void this.#pluginOp(async () => {
            for (const plugin of message.plugins) this.#comm?.send({ op: 'plugin-result', id: 0, name: plugin.name, error: await this.#addPlugin(plugin) });
            this.#settingUp = false;
            this.#pump();
          });
        }
        return;
      case 'plugin-add':
        void this.#pluginOp(async () => this.#comm?.send({ op: 'plugin-result', id: message.id, name: message.plugin.name, error: await this.#addPlugin(message.plugin) }));
        return;
      case 'plugin-remove':
        void this.#pluginOp(async () => this.#comm?.send({ op: 'plugin-result', id: message.id, name: message.name, error: await this.#removePlugin(message.name) }));
        return;
      case 'compute-task': {
        const claim = this.#claimed.get(message.key);
        if (claim !== undefined) {
          this.#claimMs = this.#claimMs * 0.8 + (performance.now() - claim.sent) * 0.2;
          this.#claimed.delete(message.key);
          this.#holding.set(message.key, claim.item);
        }
        const task: Ready = { ...message, signature: message.fns.map((r) => `${r[0]}#${r[1]}`).join('|') };
        this.#assigned.set(message.key, task);
        this.#tr(message.key, 'waiting');
        if (message.after !== undefined && !this.#data.has(message.after)) {
          let list = this.#after.get(message.after);
          if (list === undefined) this.#after.set(message.after, (list = []));
          list.push(task);
        } else this.#gather(task);
        return;
      }
      case 'claim-refused': {
        const item = this.#claimed.get(message.key)?.item;
        if (item !== undefined && item.seq === message.seq) {
          this.#claimed.delete(message.key);
          if (message.later) item.giveBack(CLAIM_AGAIN_MS);
          else item.drop();
          this.#taker?.refill();
        }
        return;
      }
      case 'free-keys':
        for (const key of message.keys) {
          this.#settled(key);
          this.#data.delete(key);
          this.#assigned.delete(key); // if it is still queued here, #pump skips it
          this.#tr(key, 'released');
        }
        // a batch whose every task was let go (cancelled, or re-run elsewhere) stops: its thread is replaced
        for (const run of this.#running) if (run.tasks.every((t) => this.#assigned.get(t.key) !== t)) run.stop.abort();
        return;
      case 'steal':
        for (const key of message.keys) {
          // only a task still waiting here: one in a batch may be running
          const queued = this.#ready.findIndex((t, i) => i >= this.#readyHead && t.key === key);
          const stolen = queued >= 0 && this.#assigned.get(key) === this.#ready[queued];
          if (stolen) {
            if (this.#ready[queued]!.userPriority !== undefined) this.#prioritizedReady--;
            this.#ready.splice(queued, 1);
            this.#release(this.#assigned.get(key)!);
            this.#assigned.delete(key);
            this.#tr(key, 'released');
            this.#settled(key);
          }
          this.#comm?.send({ op: 'steal-response', key, stolen });
        }
        return;
      case 'acquire':
        void this.#acquire(message.keys);
        return;
      case 'close':
        void this.close();
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Copies results from their holders (a retiring worker), a few at a time, and says which it now holds. */
  async #acquire(keys: ReadonlyArray<readonly [string, readonly string[]]>): Promise<void> {
    const added: string[] = [];
    const missing: string[] = [];
    const byHolder = new Map<string, string[]>();
    for (const [key, holders] of keys) {
      const holder = holders[0];
      if (holder === undefined) missing.push(key);
      else byHolder.set(holder, [...(byHolder.get(holder) ?? []), key]);
    }
    for (const [holder, list] of byHolder) {
      // a few at a time: each reply holds its values in memory until they are stored (and spilled if need be)
      for (let i = 0; i < list.length; i += ACQUIRE_AT_ONCE) {
        const part = list.slice(i, i + ACQUIRE_AT_ONCE);
        const reply = await this.#request(holder, { op: 'get-data', id: 0, keys: part }).catch(() => undefined);
        if (this.#closed) return;
        if (reply === undefined || reply.op !== 'data') {
          missing.push(...part);
          continue;
        }
        for (const [key, value] of reply.items) {
          this.#data.set(key, value, this.#received(holder, value));
          this.#tr(key, 'memory');
          added.push(key);
        }
        missing.push(...reply.missing);
        this.#spillOverTarget();
      }
    }
    this.#comm?.send({ op: 'keys-added', keys: added, missing });
  }

  /** Fetches the inputs `task` lacks from their holders, then queues it. */
  #gather(task: Ready): void {
    const missing = new Map<string, string[]>();
    for (const [dep, holders] of task.deps) {
      if (this.#data.has(dep)) continue;
      const f = this.#fetched.get(dep);
      if (f !== undefined) {
        f.users++;
        continue;
      }
      const holder = holders[0];
      if (holder === undefined) {
        this.#comm?.send({ op: 'missing-data', key: task.key, dep, holder: '' });
        this.#assigned.delete(task.key);
        return;
      }
      let list = missing.get(holder);
      if (list === undefined) missing.set(holder, (list = []));
      list.push(dep);
    }
    if (missing.size === 0) {
      this.#queue(task);
      return;
    }
    void Promise.all(
      [...missing].map(async ([holder, keys]) => {
        const reply = await this.#request(holder, { op: 'get-data', id: 0, keys }).catch(() => undefined);
        if (reply === undefined || reply.op !== 'data') return keys.map((k) => [k, holder] as const);
        for (const [key, value] of reply.items) {
          this.#received(holder, value);
          const f = this.#fetched.get(key);
          if (f !== undefined) f.users++;
          else if (!this.#data.has(key)) this.#fetched.set(key, { value, users: 1 });
        }
        return reply.missing.map((k) => [k, holder] as const);
      }),
    ).then((lost) => {
      const gone = lost.flat();
      if (this.#closed || this.#assigned.get(task.key) !== task) return this.#release(task);
      if (gone.length > 0) {
        this.#release(task);
        this.#assigned.delete(task.key);
        for (const [dep, holder] of gone) this.#comm?.send({ op: 'missing-data', key: task.key, dep, holder });
        return;
      }
      this.#queue(task);
    });
  }

  /** Lets go of the fetched inputs of `task` no other task here needs. */
  #release(task: Compute): void {
    for (const [dep] of task.deps) {
      const f = this.#fetched.get(dep);
      if (f !== undefined && --f.users <= 0) this.#fetched.delete(dep);
    }
  }

  #queue(task: Ready): void {
    this.#tr(task.key, 'ready');
    this.#ready.push(task);
    if (task.userPriority !== undefined) this.#prioritizedReady++;
    this.#unsorted = true;
    this.#pump();
  }

  #input(key: string): WireValue | undefined {
    return this.#data.get(key) ?? this.#fetched.get(key)?.value;
  }

  /**
   * Hands ready tasks to the pool, same functions together, best priority first: two batches per
   * thread in flight (the next waits in the thread's queue, so no round trip separates batches),
   * but only one while tasks with a user's priority are here: a task in a thread's queue cannot be
   * overtaken by a better one that arrives while it waits (Dask's rule; measured: the second batch
   * saves a quarter of the per-task cost on a fan of tiny tasks).
   */
  #pump(): void {
    const pool = this.#pool;
    if (pool === undefined || this.#closed || this.#paused || this.#settingUp) return;
    const maxInFlight = this.options.nthreads * (this.#prioritizedReady + this.#prioritizedRunning > 0 ? 1 : 2);
    while (this.#inFlight < maxInFlight && this.#readyHead < this.#ready.length) {
      if (this.#unsorted) {
        this.#ready = this.#ready.slice(this.#readyHead).sort(comparePriority);
        this.#readyHead = 0;
        this.#unsorted = false;
      }
      const waiting = this.#ready.length - this.#readyHead;
      const signature = this.#ready[this.#readyHead]!.signature;
      // functions never measured go one task at a time until they are; then about 5 ms a batch
      const mean = this.#durations.get(signature);
      const byTime = mean === undefined ? 1 : Math.max(1, Math.floor(BATCH_TARGET_MS / Math.max(mean, 0.001)));
      const share = Math.min(MAX_BATCH, byTime, Math.max(1, Math.ceil(waiting / maxInFlight)));
      const batch: Ready[] = [];
      // a run of the best tasks calling the same functions (tasks freed meanwhile are dropped), up
      // to about BATCH_INPUT_BYTES of inputs: each is copied to the thread (and read back from disk if spilled)
      let inputBytes = 0;
      while (batch.length < share && inputBytes < BATCH_INPUT_BYTES && this.#readyHead < this.#ready.length && this.#ready[this.#readyHead]!.signature === signature) {
        const t = this.#ready[this.#readyHead++]!;
        if (t.userPriority !== undefined) this.#prioritizedReady--;
        if (this.#assigned.get(t.key) !== t) continue;
        batch.push(t);
        for (const [dep] of t.deps) inputBytes += this.#data.bytes(dep);
      }
      if (this.#readyHead === this.#ready.length) {
        this.#ready = [];
        this.#readyHead = 0;
      }
      if (batch.length > 0) this.#run(pool, batch);
    }
  }

  #run(pool: Piscina, firsts: Ready[]): void {
    this.#inFlight++;
    const prioritized = firsts.filter((t) => t.userPriority !== undefined).length;
    this.#prioritizedRunning += prioritized;
    // each task, followed by the links of its chain sent ahead that can run right after it in
    // the same thread (one batch for the chain, not a round trip per link)
    const tasks: Ready[] = [];
    const chains: WireLink[][] = firsts.map((first) => {
      const chain: WireLink[] = [];
      let previous: string | undefined;
      for (let task: Ready | undefined = first; task !== undefined; task = chain.length < MAX_CHAIN ? this.#nextLink(task) : undefined) {
        chain.push(this.#link(task, tasks.length, previous));
        tasks.push(task);
        previous = task.key;
      }
      return chain;
    });
    const fns = this.#uploaded.size === 0 ? tasks[0]!.fns : tasks[0]!.fns.map((ref) => this.#local(ref));
    for (const t of tasks) this.#tr(t.key, 'executing');
    // inputs read back from disk count again: make room for them
    this.#spillOverTarget();
    // one task's outcome comes with the batch's result: streaming (a port per batch) is for several
    const profile = this.#samples === undefined ? undefined : { channel: this.#profileChannel, intervalMs: this.options.profileIntervalMs! };
    // a module shipped here (bundled, with an inline source map): errors point at the user's lines
    const sourceMaps = fns !== tasks[0]!.fns && fns.some((ref, i) => ref[0] !== tasks[0]!.fns[i]![0]);
    const batch: WireBatch = { fns, loader: workersNeedLoader(fns.map(([url]) => url)), sourceMaps, stream: tasks.length > 1, measure: false, asyncTasks: this.options.asyncTasks ?? 16, chains, profile };
    /** Links not run because a link before them in their chain failed: the scheduler fails them itself. */
    const failedAt = new Set<string>();
    const run = { tasks, stop: new AbortController() };
    this.#running.add(run);
    const signal = AbortSignal.any([this.#abort.signal, run.stop.signal]);
    const done = (outcome: WireOutcome, thread: string): void => {
      const task = tasks[outcome.i]!;
      if (this.#assigned.get(task.key) !== task) return; // freed while it ran (and maybe given again since)
      this.#assigned.delete(task.key);
      this.#release(task);
      if (!outcome.ok && task.after !== undefined && failedAt.has(task.after)) {
        failedAt.add(task.key); // not run: its predecessor's error reaches the scheduler, which fails it
        return;
      }
      // in the scheduler's clock: the task streams of workers on other machines line up
      const stamps = { start: outcome.start + this.#clockOffset, end: outcome.end + this.#clockOffset, thread: `${this.options.name}/${thread}` };
      const signature = task.signature;
      this.#taskMs = this.#taskMs * 0.9 + (outcome.end - outcome.start) * 0.1;
      const before = this.#durations.get(signature);
      this.#durations.set(signature, before === undefined ? outcome.end - outcome.start : before * 0.8 + (outcome.end - outcome.start) * 0.2);
      const next = this.#after.get(task.key);
      this.#after.delete(task.key);
      if (outcome.ok) {
        const value: WireValue = { value: outcome.value, buffers: outcome.buffers, classes: outcome.classes };
        const nbytes = sizeOf(outcome.value);
        this.#data.set(task.key, value, nbytes);
        this.#tr(task.key, 'memory');
        // over the target, the oldest results go to disk at once: a burst of results is not held until the next look
        this.#spillOverTarget();
        this.#comm?.send({ op: 'task-finished', key: task.key, nbytes, value: task.sendValue ? value : undefined, ...stamps });
        this.#settled(task.key);
        // the next links of its chain, sent ahead, run now (unless let go meanwhile)
        for (const t of next ?? []) if (this.#assigned.get(t.key) === t) this.#gather(t);
      } else {
        failedAt.add(task.key);
        this.#tr(task.key, 'error');
        this.#comm?.send({ op: 'task-erred', key: task.key, error: outcome.error, ...stamps });
        this.#settled(task.key);
      }
    };
    runOn(pool, batch, signal, tasks.length > 1 ? (partial) => {
      for (const o of partial.outcomes) done(o, partial.worker);
    } : undefined).then(
      (result) => {
        for (const o of result.outcomes) done(o, result.worker);
      },
      (error: unknown) => {
        if (this.#closed) return;
        const now = clock();
        const message = error instanceof Error ? error.message : String(error);
        for (let i = 0; i < tasks.length; i++) done({ i, ok: false, error: { name: 'Error', message: `the worker thread running it died: ${message}`, props: {} }, start: now, end: now }, 'thread-?');
      },
    ).finally(() => {
      this.#running.delete(run);
      this.#inFlight--;
      this.#prioritizedRunning -= prioritized;
      this.#pump();
      this.#taker?.refill();
    });
  }

  /** A task as a link of a batch: its inputs from here, the previous link's result added in the thread. */
  #link(task: Ready, i: number, previous: string | undefined): WireLink {
    const inputs: Array<readonly [string, unknown]> = [];
    let special: Array<readonly [number, WireValue['buffers'], WireValue['classes']]> | undefined;
    for (const [dep] of task.deps) {
      if (dep === previous) continue;
      const v = this.#input(dep)!;
      if (v.buffers !== undefined || v.classes !== undefined) (special ??= []).push([inputs.length, v.buffers, v.classes]);
      inputs.push([dep, v.value]);
    }
    return { i, key: task.key, task: task.task, inputs, keep: true, special };
  }

  /**
   * The link sent ahead to run after `task` that can join its batch: the only one waiting for it,
   * calling the same functions (a batch shares one list of them), every other input held here.
   */
  #nextLink(task: Ready): Ready | undefined {
    const next = this.#after.get(task.key);
    if (next === undefined || next.length !== 1) return undefined;
    const link = next[0]!;
    if (link.signature !== task.signature || this.#assigned.get(link.key) !== link) return undefined;
    for (const [dep] of link.deps) if (dep !== task.key && !this.#data.has(dep)) return undefined;
    this.#after.delete(task.key);
    return link;
  }

  /** Serves `get-data` to peers and clients, and `put-data` from clients that scatter. */
  #serve(comm: Comm<DataRequest, DataReply>): void {
    comm.onMessage((request) => {
      if (request.op === 'get-data') {
        const items: Array<readonly [string, WireValue]> = [];
        const missing: string[] = [];
        for (const key of request.keys) {
          // sent from disk as it is: serving a spilled value does not bring it back into memory
          const v = this.#data.peek(key);
          if (v === undefined) missing.push(key);
          else items.push([key, v]);
        }
        comm.send({ op: 'data', id: request.id, items, missing });
      } else if (request.op === 'run') {
        // client.run: in this process's main thread, not a task thread
        void runExported(this.#local(request.fn), request.args, this.options.exit !== undefined).then((outcome) => comm.send({ op: 'ran', id: request.id, ...outcome }));
      } else if (request.op === 'put-data' && Array.isArray(request.items)) {
        for (const [key, value] of request.items) {
          this.#data.set(key, value, sizeOf(value.value));
          this.#tr(key, 'memory');
        }
        comm.send({ op: 'put-done', id: request.id });
      } else {
        // not a peer's or a client's request (something that took this port for another's: a
        // worker of a cluster closed while it booted, still joining its old scheduler's address)
        comm.close();
      }
    });
  }

  // ---- plugins ----------------------------------------------------------------------------

  #pluginOp(op: () => Promise<unknown>): Promise<unknown> {
    this.#pluginOps = this.#pluginOps.then(op, op);
    return this.#pluginOps;
  }

  /** Sets a plugin up (tearing down one of the same name first); what it threw, naming it. */
  async #addPlugin(wire: WirePlugin): Promise<WireError | undefined> {
    let plugin: WorkerPlugin | undefined;
    const error = await callPlugin(wire.name, 'setup', async () => {
      plugin = await fromWirePlugin<WorkerPlugin>(wire, this.options.exit !== undefined);
      const failed = await this.#removePlugin(wire.name);
      if (failed !== undefined) process.stderr.write(`skein worker ${this.options.name}: ${failed.message}\n`);
      await plugin.setup?.(this.#view);
    });
    if (error === undefined) {
      this.#plugins.set(wire.name, plugin!);
      this.#watch();
    }
    return error;
  }

  async #removePlugin(name: string): Promise<WireError | undefined> {
    const plugin = this.#plugins.get(name);
    if (plugin === undefined) return undefined;
    this.#plugins.delete(name);
    this.#watch();
    return callPlugin(name, 'teardown', () => plugin.teardown?.(this.#view));
  }

  /** Tears every plugin down as the worker closes (each given 5 s at most). */
  async #teardownAll(): Promise<void> {
    await this.#pluginOps;
    for (const name of [...this.#plugins.keys()]) {
      const bound = new Promise<WireError>((resolve) => setTimeout(() => resolve({ name: 'Error', message: `plugin "${name}" did not finish its teardown within 5 s`, props: {} }), 5000).unref());
      const failed = await Promise.race([this.#removePlugin(name), bound]);
      if (failed !== undefined) process.stderr.write(`skein worker ${this.options.name}: ${failed.message}\n`);
    }
  }

  #watch(): void {
    this.#watchers = [...this.#plugins].filter(([, p]) => typeof p.transition === 'function');
    if (this.#watchers.length === 0) this.#states.clear();
  }

  /** A task's state here changed: the plugins that follow transitions hear it (nothing is kept when none does). */
  #tr(key: string, to: WorkerTaskState): void {
    if (this.#watchers.length === 0) return;
    const from = this.#states.get(key) ?? 'released';
    if (from === to) return;
    if (to === 'released') this.#states.delete(key);
    else this.#states.set(key, to);
    for (const [name, plugin] of this.#watchers) {
      try {
        plugin.transition!(key, from, to);
      } catch (error) {
        if (this.#pluginFailures.has(name)) continue;
        this.#pluginFailures.add(name);
        process.stderr.write(`skein worker ${this.options.name}: plugin "${name}" failed in transition (said once): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      }
    }
  }

  readonly #pluginFailures = new Set<string>();

  /** Where this worker imports a module from: its uploaded copy, if there is one. */
  #local(ref: FnRef): FnRef {
    const copy = this.#uploaded.get(ref[0]);
    return copy === undefined ? ref : [copy, ref[1]];
  }

  /**
   * The scheduler's clock minus this process's (ms), so that the times this worker reports are
   * the scheduler's, whatever machine it is on: estimated as NTP does, from the round trips of
   * its registration and heartbeats, `scheduler clock - (sent + received) / 2`, trusting the
   * sample with the shortest round trip of the latest eight (the least delayed one way or other),
   * and only beyond half that round trip (within it, the clocks agree as far as can be measured).
   */
  #clockOffset = 0;
  readonly #clockSamples: Array<{ rtt: number; offset: number }> = [];

  #clockSample(schedulerClock: number, sent: number): void {
    const now = clock();
    this.#clockSamples.push({ rtt: now - sent, offset: schedulerClock - (sent + now) / 2 });
    if (this.#clockSamples.length > 8) this.#clockSamples.shift();
    // an offset within half the round trip is what the round trip alone can explain (the error of
    // the estimate): the clocks agree (one machine, or well synchronised ones), and stamps stay as taken
    const best = this.#clockSamples.reduce((b, s) => (s.rtt < b.rtt ? s : b));
    this.#clockOffset = Math.abs(best.offset) <= best.rtt / 2 ? 0 : best.offset;
  }

  /** Bytes fetched from each holder since the last heartbeat. */
  #receivedFrom = new Map<string, number>();

  /** Counts a value fetched from `holder`; its size. */
  #received(holder: string, value: WireValue): number {
    const bytes = sizeOf(value.value);
    this.#receivedFrom.set(holder, (this.#receivedFrom.get(holder) ?? 0) + bytes);
    return bytes;
  }

  #request(address: string, request: DataRequest): Promise<DataReply> {
    return requestData(this.options.transport, this.#peers, address, request);
  }
}

/** Requests in flight from this process, by id: how to resolve each, whom it went to, what it asked. */
const inFlight = new Map<number, { resolve: (reply: DataReply) => void; address: string; keys: readonly string[] }>();
let lastRequestId = 0;
/** Replies made here because a connection was lost (not closed), not sent by the holder. */
const lostReplies = new WeakSet<DataReply>();
/** Waits before asking a lost get-data again: the holder's NATS client may be moving to another server meanwhile. */
const AGAIN_AFTER_MS = [250, 500, 1000, 2000];

/**
 * Sends a data request on a (cached) connection to `address` and waits for its reply. A get-data
 * whose connection is lost (not closed: a NATS server that went, a link down for a moment), or
 * that finds no one at a NATS address, is asked again on a new connection after 0.25, 0.5, 1 and
 * 2 s (its holder's NATS client may be moving to another server); a holder that still cannot be
 * reached, or that goes away before answering, has nothing: the reply lists every key asked for
 * as missing. Other requests are sent once (a run must not run twice).
 */
export async function requestData(transport: Transport, peers: Map<string, Promise<Comm<DataReply, DataRequest>>>, address: string, request: DataRequest, options?: HandleOptions): Promise<DataReply> {
  if (request.op !== 'get-data') return requestOnce(transport, peers, address, request, options);
  const throughNats = overNats(address);
  for (let attempt = 0; ; attempt++) {
    const last = attempt === AGAIN_AFTER_MS.length;
    try {
      const reply = await requestOnce(transport, peers, address, request, options);
      if (!lostReplies.has(reply) || last) return reply;
    } catch (error) {
      if (!throughNats || last) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, AGAIN_AFTER_MS[attempt]));
  }
}

async function requestOnce(transport: Transport, peers: Map<string, Promise<Comm<DataReply, DataRequest>>>, address: string, request: DataRequest, options?: HandleOptions): Promise<DataReply> {
  let peer = peers.get(address);
  if (peer === undefined) {
    peer = transport.connect<DataReply, DataRequest>(address, options).then((comm) => {
      comm.onMessage((reply) => {
        const pending = inFlight.get(reply.id);
        inFlight.delete(reply.id);
        pending?.resolve(reply);
      });
      comm.onClose((error) => {
        peers.delete(address);
        for (const [id, pending] of inFlight) {
          if (pending.address !== address) continue;
          inFlight.delete(id);
          const missing: DataReply = { op: 'data', id, items: [], missing: [...pending.keys] };
          if (error !== undefined) lostReplies.add(missing);
          pending.resolve(missing);
        }
      });
      return comm;
    });
    peers.set(address, peer);
    peer.catch(() => peers.delete(address));
  }
  const comm = await peer;
  const id = ++lastRequestId;
  return new Promise<DataReply>((resolve) => {
    inFlight.set(id, { resolve, address, keys: request.op === 'get-data' ? request.keys : [] });
    comm.send({ ...request, id });
  });
}
