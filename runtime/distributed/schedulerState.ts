/**
 * The distributed scheduler's state machine, with Dask's task states and no I/O: stimuli come in
 * (a graph, a finished task, a worker that joined or died), transitions run, and messages for
 * workers and clients come out in an `Outbox` the server sends.
 *
 *   released ─▶ waiting ─▶ processing ─▶ memory ─▶ released ─▶ forgotten
 *                  │  ▲        │   ▲                  ▲
 *                  │  └────────┘   └── queued         └── (a worker holding it died)
 *                  ├──▶ no-worker (no worker yet)
 *                  └──▶ erred (itself or a dependency failed)
 *
 * Every transition lives in one table keyed by `from→to`; each returns recommendations (key →
 * next state) that `#drain` applies in a loop, never by recursion. Each transition is logged with
 * its stimulus id and time; `story(key)` reads the log. With `validate`, the invariants are
 * checked after every stimulus (tests turn it on).
 *
 * Unlike the local core's state (core/state.ts), nothing here holds a value: the scheduler knows
 * only which workers hold each key and how big it is. Placement puts a task where most of its
 * input bytes already are, weighed against how busy that worker is; a worker takes as many
 * tasks as keep it busy for about `TARGET_BUSY_MS` (by the measured durations of the task's
 * group), and the rest wait `queued` in priority order for the first worker with room, so an idle
 * worker takes queued work before a busy one.
 */
import { keyGroup } from '../graph/spec.js';
import { clock } from '../core/timings.js';
import type { WireError } from '../workers/protocol.js';
import { formatBytes } from '../core/sizeOf.js';
import type { PluginStatus } from './plugins.js';
import { comparePriority } from './priority.js';
import type { RunStamps, TaskEvent, TaskSpec, TaskStreamEntry, ToClient, ToWorker, WireValue, WorkerInfo } from './protocol.js';

export const TASK_STATES = ['released', 'waiting', 'queued', 'processing', 'memory', 'erred', 'forgotten', 'no-worker'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

/** Keep each worker about this busy (ms of estimated work handed to it and not finished). */
const TARGET_BUSY_MS = 10;
/** Estimate for a task group never measured (ms). */
const UNKNOWN_TASK_MS = 0.5;
/** Tasks the task stream keeps (Dask's 100,000). */
const TASK_STREAM_KEPT = 100_000;
/** Only tasks of a group measured at least this long (ms) are stolen: shorter ones finish before a steal would. */
const STEAL_MIN_MS = 1;
/** Most tasks asked for in one steal. */
const STEAL_AT_ONCE = 32;
/** Most tasks of the busiest worker looked at for a steal (it runs after every stimulus). */
const STEAL_SCAN = 256;
/** Links of a chain sent ahead to the worker running the chain (see #sendAhead). */
const CHAIN_AHEAD = 32;
/** Bytes a worker fetches from a peer per ms (for weighing data movement against waiting). */
const BYTES_PER_MS = 100_000;

/** Whether `ts` may run on `ws`: no restriction, or `ws` named in it by name or address. */
function allowedOn(ts: TaskState, ws: WorkerState): boolean {
  const allowed = ts.spec.workers;
  return allowed === undefined || allowed.includes(ws.name) || allowed.includes(ws.address);
}

export interface TaskState {
  readonly key: string;
  /** Its key group (durations are measured per group). */
  readonly group: string;
  spec: TaskSpec;
  state: TaskStateName;
  readonly dependencies: TaskState[];
  readonly dependents: Set<TaskState>;
  /** Dependencies not in memory yet (while waiting). */
  readonly waitingOn: Set<TaskState>;
  /** Dependents not done yet that need this one's data. */
  readonly waiters: Set<TaskState>;
  readonly whoHas: Set<WorkerState>;
  processingOn: WorkerState | undefined;
  /**
   * The worker that already has this task, to run as soon as the task before it in a chain
   * finishes there (sent ahead while this one still waits; see #sendAhead).
   */
  pinnedTo: WorkerState | undefined;
  /** Its worker was asked to give it back (a steal): not asked again while it runs there. */
  stealing: boolean;
  /** Times it raised and ran again (up to its spec's `retries`). */
  retried: number;
  /** Clients holding a future for this key. */
  readonly whoWants: Set<string>;
  /** Clients following this task's transitions, with whether they want its value. */
  readonly followers: Map<string, boolean>;
  nbytes: number;
  /** Workers that died while running this task. */
  readonly killedOn: string[];
  /** Of those, the ones restarted for memory: how much their process reached, against its limit. */
  readonly memoryDeaths: string[];
  exception: WireError | undefined;
  /** The key whose failure this task shares (itself when it failed). */
  erredBecause: string | undefined;
  /** The worker it raised on (its name). */
  erredOn: string | undefined;
  /** When and on which thread it last ran (`worker-name/thread`), as its worker reported. */
  ran: { readonly start: number; readonly end: number; readonly thread: string } | undefined;
  /** When its last dependency arrived (clock of timings.ts). */
  readyTime: number;
  /** Its estimated duration when it was handed to its worker. */
  estimate: number;
  /**
   * Its number in the shared work queue (over NATS), while it waits there and while the worker
   * that claimed it runs it: a claim naming another number is for an earlier queuing of it.
   */
  queuedAs: number | undefined;
}

export interface WorkerState {
  readonly address: string;
  readonly name: string;
  readonly pid: number;
  readonly nthreads: number;
  readonly memoryLimit: number | null;
  readonly processing: Set<TaskState>;
  readonly hasWhat: Set<TaskState>;
  /** Tasks sent ahead to it, waiting there for the task before them in their chain. */
  readonly pinned: Set<TaskState>;
  /** ms of estimated work handed to it and not finished. */
  occupancy: number;
  lastSeen: number;
  /** From its last heartbeat: its process's resident memory (bytes), and tasks running there. */
  memory: number;
  executing: number;
  /** Its process's CPU over its last heartbeat's second (1 = one core busy). */
  cpu: number;
  /** The scheduler's clock minus the worker's, as the worker estimates it (ms). */
  clockOffset: number;
  /** From its last heartbeat: bytes of results in its memory (managed) and spilled to its disk. */
  managed: number;
  spilled: number;
  /** Over its memory limit's pause threshold: it starts no new task, so it gets none. */
  paused: boolean;
  /** Being retired (scaled down): it gets no new task while its results move to other workers. */
  retiring: boolean;
  /** It said it ends for memory (its process reached `memory` of its `limit`): its tasks hear why. */
  killedForMemory: { readonly memory: number; readonly limit: number; readonly terminate: number } | undefined;
  /** How each worker plugin's setup went there. */
  readonly plugins: Map<string, PluginStatus>;
  /** Bytes it fetched from other workers, by their address, since it joined. */
  readonly receivedFrom: Map<string, number>;
  /** Its memory at each heartbeat, oldest first (the latest MEMORY_HISTORY). */
  readonly history: MemorySample[];
}

/** A worker's memory at one heartbeat: time (ms since the epoch), process memory, managed, spilled (bytes). */
export type MemorySample = readonly [time: number, memory: number, managed: number, spilled: number];

/** Transitions the scheduler's log keeps, at least (Dask's transition-log-length). */
const TRANSITION_LOG_KEPT = 100_000;

/** Heartbeats of memory kept per worker: an hour at one a second. */
export const MEMORY_HISTORY = 3600;

/** Messages a stimulus produced, by destination. */
export class Outbox {
  readonly workers = new Map<string, ToWorker[]>();
  readonly clients = new Map<string, ToClient[]>();
  readonly events = new Map<string, TaskEvent[]>();
  /** Keys that reached memory (the scheduler's journal over NATS records them). */
  readonly completed: string[] = [];
  /** Tasks for the shared work queue (over NATS): any worker with room claims them. */
  readonly queue: Array<{ readonly key: string; readonly seq: number }> = [];

  toWorker(address: string, message: ToWorker): void {
    let list = this.workers.get(address);
    if (list === undefined) this.workers.set(address, (list = []));
    list.push(message);
  }
  toClient(client: string, message: ToClient): void {
    let list = this.clients.get(client);
    if (list === undefined) this.clients.set(client, (list = []));
    list.push(message);
  }
  event(client: string, event: TaskEvent): void {
    let list = this.events.get(client);
    if (list === undefined) this.events.set(client, (list = []));
    list.push(event);
  }
}

export interface LogEntry {
  readonly key: string;
  readonly from: TaskStateName;
  readonly to: TaskStateName;
  readonly stimulus: string;
  readonly time: number;
  /** What the transition recommended next. */
  readonly recommended: ReadonlyArray<readonly [string, TaskStateName]>;
  /** To processing: the worker it went to (its name). */
  readonly worker?: string;
}

type Recommendations = Map<TaskState, TaskStateName>;
type Transition = (ts: TaskState, out: Outbox, rec: Recommendations) => void;

export interface SchedulerStateOptions {
  /** Deaths of a worker while running the same task before that task fails (Dask's allowed-failures). */
  readonly allowedFailures?: number;
  readonly validate?: boolean;
  /** Transitions the log keeps at least (default 100,000, as Dask's transition log). */
  readonly transitionLogKept?: number;
  /** Runs the task stream keeps (default 100,000, as Dask). */
  readonly taskStreamKept?: number;
}

export class SchedulerState {
  readonly tasks = new Map<string, TaskState>();
  readonly workers = new Map<string, WorkerState>();
  /**
   * The latest transitions, oldest first: at most twice `transitionLogKept`, trimmed back to it as
   * it grows (a long-lived scheduler does not keep every transition ever); `logStart` counts the
   * entries trimmed away, so `logStart + i` numbers an entry for good.
   */
  log: LogEntry[] = [];
  logStart = 0;
  /** Tasks ready to run that no worker had room for, by priority. */
  readonly #queued = new PriorityQueue();
  /** Measured mean duration (ms) per task group. */
  readonly #durations = new Map<string, { mean: number; count: number }>();
  readonly #allowedFailures: number;
  readonly #validate: boolean;
  #stimulus = '';
  /**
   * Ready tasks no worker has room for and that need nothing from a worker (no inputs, no
   * restriction) wait in the shared work queue (the NATS transport's, natsQueue.ts) rather than
   * here: set once the scheduler has one.
   */
  sharedQueue = false;
  #queueSeq = 0;

  constructor(options: SchedulerStateOptions = {}) {
    this.#allowedFailures = options.allowedFailures ?? 3;
    this.#validate = options.validate ?? false;
    this.#streamKept = options.taskStreamKept ?? TASK_STREAM_KEPT;
    this.#logKept = Math.max(1, options.transitionLogKept ?? TRANSITION_LOG_KEPT);
  }

  readonly #logKept: number;

  readonly #streamKept: number;

  // ---- stimuli ---------------------------------------------------------------------------

  /** A client submits tasks and holds futures for `wanted`. */
  updateGraph(client: string, specs: readonly TaskSpec[], wanted: readonly string[], follow: { events: boolean; values: boolean }, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      const added: TaskState[] = [];
      for (const spec of specs) {
        let ts = this.tasks.get(spec.key);
        if (ts === undefined) {
          ts = newTask(spec);
          this.tasks.set(spec.key, ts);
          added.push(ts);
        } else if (ts.state === 'released' || ts.state === 'erred') {
          ts.spec = spec;
        }
        if (follow.events) ts.followers.set(client, follow.values);
      }
      // and a result known again after a restart (restoreHeld), its inputs not yet linked
      const link = [...added];
      const isAdded = new Set(added);
      for (const spec of specs) {
        const ts = this.tasks.get(spec.key)!;
        if (ts.dependencies.length === 0 && ts.spec.deps.length > 0 && !isAdded.has(ts)) link.push(ts);
      }
      for (const ts of link) {
        const missing = ts.spec.deps.filter((d) => !this.tasks.has(d));
        if (missing.length > 0) {
          // a dependency the scheduler no longer knows: a released future passed to submit
          ts.exception = missingDependency(ts.key, missing);
          ts.erredBecause = ts.key;
          this.#logged(ts, 'erred');
          continue;
        }
        for (const d of ts.spec.deps) {
          const dep = this.tasks.get(d)!;
          ts.dependencies.push(dep);
          dep.dependents.add(ts);
        }
      }
      for (const key of wanted) {
        const ts = this.tasks.get(key);
        if (ts === undefined) continue;
        ts.whoWants.add(client);
        this.#want(ts, client, out, rec);
      }
      // what no wanted key needs goes at once: the inputs of a result already in memory (a
      // persisted one), which would otherwise stay released for ever
      const needed = new Set<TaskState>();
      const stack = wanted.map((k) => this.tasks.get(k)).filter((ts) => ts !== undefined);
      while (stack.length > 0) {
        const ts = stack.pop()!;
        if (needed.has(ts)) continue;
        needed.add(ts);
        if (ts.state !== 'memory') for (const dep of ts.dependencies) stack.push(dep);
      }
      for (const ts of added) if (!needed.has(ts) && ts.whoWants.size === 0 && (ts.state === 'released' || ts.state === 'erred')) rec.set(ts, 'forgotten');
    });
  }

  /**
   * A scheduler started again (natsJournal.ts): results a worker kept that the journal says were
   * computed are known again as in memory there, before the journal's graphs are taken up (which
   * then find them done). `specs`: each key's task as the journal has it (a scattered key's has no
   * task), so a result lost later can be computed again.
   */
  restoreHeld(address: string, held: ReadonlyArray<readonly [key: string, nbytes: number]>, specs: ReadonlyMap<string, TaskSpec>, stimulus: string): Outbox {
    return this.#stimulate(stimulus, () => {
      const ws = this.workers.get(address);
      if (ws === undefined) return;
      for (const [key, nbytes] of held) {
        const spec = specs.get(key);
        if (spec === undefined) continue;
        let ts = this.tasks.get(key);
        if (ts === undefined) this.tasks.set(key, (ts = newTask(spec)));
        if (ts.state !== 'memory' && ts.state !== 'released') continue;
        if (ts.state !== 'memory') this.#logged(ts, 'memory');
        ts.nbytes = nbytes;
        ts.whoHas.add(ws);
        ws.hasWhat.add(ts);
      }
    });
  }

  /** For a client joining again: where each of `keys` is (in memory, or failed); the others are still to come. */
  whereAre(keys: readonly string[]): ToClient[] {
    const messages: ToClient[] = [];
    for (const key of keys) {
      const ts = this.tasks.get(key);
      if (ts?.state === 'memory') messages.push({ op: 'key-in-memory', key, holders: [...ts.whoHas].map((w) => w.address) });
      else if (ts?.state === 'erred') messages.push(this.#erredMessage(ts));
    }
    return messages;
  }

  /** Results no one wants and no task waits for are let go (after a restart's graphs are taken up). */
  releaseUnneeded(stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      for (const ts of this.tasks.values()) if (ts.state === 'memory' && ts.whoWants.size === 0 && ts.waiters.size === 0) rec.set(ts, 'released');
    });
  }

  /** A client scattered data straight to a worker: those keys are in memory there. */
  scatter(client: string, keys: readonly string[], nbytes: readonly number[], address: string, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out) => {
      const ws = this.workers.get(address);
      keys.forEach((key, i) => {
        let ts = this.tasks.get(key);
        if (ts === undefined) {
          ts = newTask({ key, task: null, fns: [], deps: [], priority: 0, scattered: true });
          this.tasks.set(key, ts);
        }
        ts.whoWants.add(client);
        ts.nbytes = nbytes[i]!;
        if (ws !== undefined) {
          if (ts.state !== 'memory') this.#logged(ts, 'memory');
          ts.whoHas.add(ws);
          ws.hasWhat.add(ts);
        }
        out.toClient(client, { op: 'key-in-memory', key, holders: [...ts.whoHas].map((w) => w.address) });
      });
    });
  }

  /** A worker finished a task. */
  taskFinished(address: string, key: string, nbytes: number, stamps: RunStamps, value: WireValue | undefined, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      const ts = this.tasks.get(key);
      const ws = this.workers.get(address);
      if (ws === undefined) return;
      ws.lastSeen = clock();
      if (ts === undefined || ts.state !== 'processing' || ts.processingOn !== ws) {
        // a result no one waits for any more (released, cancelled, or re-run elsewhere)
        if (ts === undefined || ts.state !== 'memory') out.toWorker(address, { op: 'free-keys', keys: [key] });
        else if (!ts.whoHas.has(ws)) {
          ts.whoHas.add(ws);
          ws.hasWhat.add(ts);
        }
        return;
      }
      this.#measured(ts, stamps.end - stamps.start);
      ts.ran = { start: stamps.start, end: stamps.end, thread: stamps.thread };
      this.#ran(ts, ws, stamps, 'memory');
      ts.nbytes = nbytes;
      this.#finished = { stamps, value };
      rec.set(ts, 'memory');
    });
  }

  /**
   * A worker pulled tasks from the shared work queue and claims them: each still waiting there
   * (same queue number) is its to run (`compute-task`); any other claim is refused. A claim of a
   * message JetStream delivered again, for a task whose worker has stopped saying it runs it and
   * has been silent for `silentMs`, takes that worker as dead for the task: it runs again on the
   * claimer, counted among the task's deaths (`allowedFailures`) as a lost connection is.
   */
  claimTasks(address: string, claims: ReadonlyArray<{ readonly key: string; readonly seq: number; readonly redelivered: boolean }>, silentFor: (address: string) => number, silentMs: number, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      const ws = this.workers.get(address);
      if (ws === undefined) return;
      ws.lastSeen = clock();
      for (const claim of claims) {
        const ts = this.tasks.get(claim.key);
        const current = ts !== undefined && ts.queuedAs === claim.seq;
        if (current && ts.state === 'queued' && !ws.retiring) {
          this.#startOn(ts, ws, out);
          ts.queuedAs = claim.seq;
          this.#record({ key: ts.key, from: 'queued', to: 'processing', stimulus: this.#stimulus, time: clock(), recommended: [] }, ts);
          continue;
        }
        const holder = current && ts.state === 'processing' ? ts.processingOn! : undefined;
        // delivered again to the worker that runs it (JetStream missed its word for a while): it still runs it
        if (holder === ws) continue;
        if (holder !== undefined && claim.redelivered && silentFor(holder.address) >= silentMs) {
          ts!.killedOn.push(holder.name);
          out.toWorker(holder.address, { op: 'free-keys', keys: [ts!.key] });
          if (ts!.killedOn.length > this.#allowedFailures) {
            ts!.exception = killedWorker(ts!, this.#allowedFailures);
            ts!.erredBecause = ts!.key;
            rec.set(ts!, 'erred');
            out.toWorker(address, { op: 'claim-refused', key: claim.key, seq: claim.seq, later: false });
            continue;
          }
          this.#stopProcessing(ts!);
          this.#startOn(ts!, ws, out);
          ts!.queuedAs = claim.seq;
          this.#record({ key: ts!.key, from: 'processing', to: 'processing', stimulus: this.#stimulus, time: clock(), recommended: [] }, ts);
          continue;
        }
        // its worker not (yet) silent for long enough: the message is to come again a second on
        out.toWorker(address, { op: 'claim-refused', key: claim.key, seq: claim.seq, later: holder !== undefined });
      }
    });
  }

  /** A task raised. */
  taskErred(address: string, key: string, error: WireError, stamps: RunStamps, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      const ts = this.tasks.get(key);
      const ws = this.workers.get(address);
      if (ts === undefined || ws === undefined || ts.state !== 'processing' || ts.processingOn !== ws) return;
      if (ts.retried < (ts.spec.retries ?? 0)) {
        ts.retried++; // `retries`: it runs again, where the scheduler decides
        rec.set(ts, 'waiting');
        return;
      }
      ts.exception = error;
      ts.erredBecause = key;
      ts.erredOn = ws.name;
      ts.ran = { start: stamps.start, end: stamps.end, thread: stamps.thread };
      this.#ran(ts, ws, stamps, 'erred');
      this.#erredStamps = stamps;
      rec.set(ts, 'erred');
    });
  }

  /** A worker answered a steal: `stolen` when the task had not started there and was dropped. */
  stealResponse(address: string, key: string, stolen: boolean, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      const ts = this.tasks.get(key);
      if (ts === undefined) return;
      // a task its worker kept has started there: it is not asked for again while it runs there
      if (stolen && ts.state === 'processing' && ts.processingOn?.address === address) rec.set(ts, 'waiting');
    });
  }

  /** A worker could not fetch `dep` from `holder`: the holder no longer has it. */
  missingData(address: string, key: string, dep: string, holder: string, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      const dts = this.tasks.get(dep);
      const hs = this.workers.get(holder);
      if (dts !== undefined && hs !== undefined && dts.whoHas.delete(hs)) hs.hasWhat.delete(dts);
      if (dts !== undefined && dts.state === 'memory' && dts.whoHas.size === 0) this.#lostLastCopy(dts, hs?.name ?? holder, rec);
      const ts = this.tasks.get(key);
      if (ts !== undefined && ts.state === 'processing' && ts.processingOn?.address === address) rec.set(ts, 'waiting');
      else if (ts !== undefined && ts.pinnedTo?.address === address) this.#unpin(ts);
    });
  }

  addWorker(info: { address: string; name: string; pid: number; nthreads: number; memoryLimit: number | null }, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      this.workers.set(info.address, { ...info, processing: new Set(), hasWhat: new Set(), pinned: new Set(), occupancy: 0, lastSeen: clock(), clockOffset: 0, memory: 0, executing: 0, cpu: 0, managed: 0, spilled: 0, paused: false, retiring: false, killedForMemory: undefined, plugins: new Map(), receivedFrom: new Map(), history: [] });
      for (const ts of this.tasks.values()) if (ts.state === 'no-worker') rec.set(ts, 'waiting');
    });
  }

  /** A worker went over (or back under) its memory limit's pause threshold: it gets no task meanwhile; back under, queued work goes to it. */
  pauseWorker(address: string, paused: boolean, stimulus: string): Outbox {
    return this.#stimulate(stimulus, () => {
      const ws = this.workers.get(address);
      if (ws !== undefined) ws.paused = paused;
    });
  }

  /** Keys being copied off retiring workers, with the address of the staying worker asked, until it answers `keys-added`. */
  readonly #copying = new Map<string, string>();

  /**
   * Starts retiring workers (scaling down, Dask's RetireWorker policy): they get no new task, and
   * each result only they hold is copied to a worker that stays (the least loaded), which fetches
   * it from them. `retireProgress` copies what they finish meanwhile and says when they may go.
   */
  retireWorkers(addresses: readonly string[], stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out) => {
      for (const address of addresses) {
        const ws = this.workers.get(address);
        if (ws !== undefined) ws.retiring = true;
      }
      this.#copyOffRetiring(addresses, out);
    });
  }

  /**
   * Whether the retiring workers among `addresses` may go now: none runs a task or has one sent
   * ahead, and every result only they hold has a copy on a worker that stays (or no worker
   * stays). Copies what still needs copying (results finished since, copies that failed).
   */
  retireProgress(addresses: readonly string[], stimulus: string): { out: Outbox; done: boolean } {
    let pending = 0;
    const out = this.#stimulate(stimulus, (o) => {
      pending = this.#copyOffRetiring(addresses, o);
    });
    let done = pending === 0;
    for (const address of addresses) {
      const ws = this.workers.get(address);
      if (ws !== undefined && (ws.processing.size > 0 || ws.pinned.size > 0)) done = false;
    }
    return { out, done };
  }

  /** Asks staying workers to copy the results only retiring workers hold; returns how many such results are not copied yet. */
  #copyOffRetiring(addresses: readonly string[], out: Outbox): number {
    const leaving = addresses.map((a) => this.workers.get(a)).filter((ws): ws is WorkerState => ws !== undefined && ws.retiring);
    const staying = [...this.workers.values()].filter((ws) => !ws.retiring);
    if (staying.length === 0) return 0;
    const copies = new Map<WorkerState, Array<readonly [string, readonly string[]]>>();
    let unique = 0;
    let turn = 0;
    for (const ws of leaving) {
      for (const ts of ws.hasWhat) {
        if (ts.state !== 'memory' || [...ts.whoHas].some((h) => !h.retiring)) continue;
        unique++;
        // asked already, of a worker still here (one that left meanwhile never answers: asked again)
        const asked = this.#copying.get(ts.key);
        if (asked !== undefined && this.workers.has(asked)) continue;
        // spread over the staying workers, least loaded first
        staying.sort((a, b) => a.hasWhat.size - b.hasWhat.size || a.occupancy - b.occupancy);
        const to = staying[turn++ % staying.length]!;
        let list = copies.get(to);
        if (list === undefined) copies.set(to, (list = []));
        list.push([ts.key, [...ts.whoHas].map((h) => h.address)]);
        this.#copying.set(ts.key, to.address);
      }
    }
    for (const [to, keys] of copies) out.toWorker(to.address, { op: 'acquire', keys });
    return unique;
  }

  /** A worker now holds copies of `keys` (acquired from a retiring worker); `missing`: keys it could not fetch. */
  keysAdded(address: string, keys: readonly string[], stimulus: string, missing: readonly string[] = []): Outbox {
    return this.#stimulate(stimulus, (out) => {
      for (const key of missing) this.#copying.delete(key);
      const ws = this.workers.get(address);
      const unwanted: string[] = [];
      for (const key of keys) {
        this.#copying.delete(key);
        const ts = this.tasks.get(key);
        if (ws === undefined) continue;
        if (ts === undefined || ts.state !== 'memory') {
          unwanted.push(key); // let go meanwhile
          continue;
        }
        ts.whoHas.add(ws);
        ws.hasWhat.add(ts);
      }
      if (unwanted.length > 0) out.toWorker(address, { op: 'free-keys', keys: unwanted });
    });
  }

  /**
   * How much work waits and runs (for adaptive scaling): estimated ms of the tasks queued, waiting
   * for a worker and processing, and the worker threads there are.
   */
  workload(): { workMs: number; tasks: number; threads: number } {
    let workMs = 0;
    let tasks = 0;
    // by what each task's group takes now: tasks handed out before any of their group had run were counted as unknown
    for (const ws of this.workers.values()) {
      for (const ts of ws.processing) workMs += this.#estimate(ts);
      tasks += ws.processing.size;
    }
    for (const ts of this.tasks.values()) {
      if (ts.state !== 'queued' && ts.state !== 'no-worker') continue;
      workMs += this.#estimate(ts);
      tasks++;
    }
    let threads = 0;
    for (const ws of this.workers.values()) if (!ws.retiring) threads += ws.nthreads;
    return { workMs, tasks, threads };
  }

  /** A worker is gone: its running tasks run elsewhere, keys only it held are computed again. */
  removeWorker(address: string, stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      const ws = this.workers.get(address);
      if (ws === undefined) return;
      this.workers.delete(address);
      this.#departed.set(address, ws.name);
      for (const ts of ws.pinned) ts.pinnedTo = undefined;
      for (const ts of ws.processing) {
        // a worker retired on purpose did not die of its task: the task just runs elsewhere
        if (ws.retiring) {
          rec.set(ts, 'released');
          continue;
        }
        ts.killedOn.push(ws.name);
        const m = ws.killedForMemory;
        if (m !== undefined) ts.memoryDeaths.push(`${ws.name} reached ${formatBytes(m.memory)} of its ${formatBytes(m.limit)} limit`);
        if (ts.killedOn.length > this.#allowedFailures) {
          ts.exception = killedWorker(ts, this.#allowedFailures);
          ts.erredBecause = ts.key;
          rec.set(ts, 'erred');
        } else rec.set(ts, 'released');
      }
      for (const ts of ws.hasWhat) {
        ts.whoHas.delete(ws);
        if (ts.state === 'memory' && ts.whoHas.size === 0) this.#lostLastCopy(ts, ws.name, rec);
      }
    });
  }

  /**
   * The last copy of a result is gone: it is computed again, unless it was scattered data, which
   * has no recipe: that is lost for good (never a made-up value), and what needs it fails saying so.
   */
  #lostLastCopy(ts: TaskState, holder: string, rec: Recommendations): void {
    if (ts.spec.scattered !== true) {
      rec.set(ts, 'released');
      return;
    }
    ts.exception = scatteredLost(ts.key, holder);
    ts.erredBecause = ts.key;
    rec.set(ts, 'erred');
  }

  /** A client lets go of futures. */
  releaseKeys(client: string, keys: readonly string[], stimulus: string): Outbox {
    return this.#stimulate(stimulus, (_out, rec) => {
      for (const key of keys) {
        const ts = this.tasks.get(key);
        if (ts !== undefined) this.#letGo(ts, client, rec, false);
      }
    });
  }

  /** A client cancels futures: they and what only they needed stop; the client hears `cancelled`. */
  cancelKeys(client: string, keys: readonly string[], stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      // the dependents first (deepest first), as Dask's cancel_key: released before what they
      // need, they do not ask for it again
      const seen = new Set<TaskState>();
      const order: TaskState[] = [];
      const visit = (root: TaskState): void => {
        const stack: Array<[TaskState, Iterator<TaskState>]> = [[root, root.dependents.values()]];
        seen.add(root);
        while (stack.length > 0) {
          const top = stack[stack.length - 1]!;
          const next = top[1].next();
          if (next.done === true) {
            order.push(top[0]);
            stack.pop();
          } else if (!seen.has(next.value)) {
            seen.add(next.value);
            stack.push([next.value, next.value.dependents.values()]);
          }
        }
      };
      const asked = new Set(keys);
      for (const key of keys) {
        const ts = this.tasks.get(key);
        if (ts !== undefined && !seen.has(ts)) visit(ts);
        // every key asked for is answered, known or not (the client counts the answers)
        else if (ts === undefined) out.toClient(client, { op: 'cancelled', key });
      }
      for (const ts of order) {
        if (ts.whoWants.has(client) || asked.has(ts.key)) out.toClient(client, { op: 'cancelled', key: ts.key });
        this.#letGo(ts, client, rec, true);
      }
    });
  }

  /** `client.restart()`: every client's every future is cancelled, and every task let go. */
  restart(stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      for (const ts of [...this.tasks.values()]) {
        for (const client of [...ts.whoWants]) {
          out.toClient(client, { op: 'cancelled', key: ts.key });
          this.#letGo(ts, client, rec, true);
        }
      }
    });
  }

  /** `client` no longer wants `ts`: released (or forgotten) once no one does; `cancel` stops it even while tasks wait for it. */
  #letGo(ts: TaskState, client: string, rec: Recommendations, cancel: boolean): void {
    ts.whoWants.delete(client);
    ts.followers.delete(client);
    if (ts.whoWants.size > 0 || (!cancel && ts.waiters.size > 0)) return;
    rec.set(ts, ts.state === 'released' || ts.state === 'erred' ? 'forgotten' : 'released');
  }

  /** Erred tasks run again (Dask's `client.retry`). */
  retryKeys(client: string, keys: readonly string[], stimulus: string): Outbox {
    return this.#stimulate(stimulus, (out, rec) => {
      const roots = new Set<TaskState>();
      for (const key of keys) {
        const ts = this.tasks.get(key);
        if (ts === undefined || ts.state !== 'erred') continue;
        const root = this.tasks.get(ts.erredBecause ?? key);
        if (root !== undefined) roots.add(root);
        roots.add(ts);
      }
      for (const ts of roots) {
        ts.exception = undefined;
        ts.erredBecause = undefined;
        ts.killedOn.length = 0;
        ts.memoryDeaths.length = 0;
        this.#logged(ts, 'released');
      }
      for (const ts of roots) if (ts.whoWants.size > 0) this.#want(ts, client, out, rec);
    });
  }

  // ---- queries ---------------------------------------------------------------------------

  /** Every transition of `key`, oldest first. */
  story(key: string): LogEntry[] {
    return this.log.filter((e) => e.key === key);
  }

  workerInfo(): Record<string, WorkerInfo> {
    const out: Record<string, WorkerInfo> = {};
    for (const ws of this.workers.values()) {
      out[ws.address] = {
        address: ws.address,
        name: ws.name,
        pid: ws.pid,
        nthreads: ws.nthreads,
        memoryLimit: ws.memoryLimit,
        memory: ws.memory,
        managed: ws.managed,
        unmanaged: Math.max(0, ws.memory - ws.managed),
        spilled: ws.spilled,
        paused: ws.paused,
        processing: ws.processing.size,
        executing: ws.executing,
        keys: ws.hasWhat.size,
        lastSeen: ws.lastSeen,
        clockOffset: ws.clockOffset,
        plugins: Object.fromEntries(ws.plugins),
        received: this.receivedByName(ws),
      };
    }
    return out;
  }

  /** Bytes `ws` fetched from each other worker, by that worker's name (its address once it is gone). */
  receivedByName(ws: WorkerState): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [address, bytes] of ws.receivedFrom) out[this.workers.get(address)?.name ?? this.#departed.get(address) ?? address] = bytes;
    return out;
  }

  /** Names of workers that left, by address (transfers from them still name them). */
  readonly #departed = new Map<string, string>();

  /** The keys each worker holds, by address. */
  hasWhat(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const ws of this.workers.values()) out[ws.address] = [...ws.hasWhat].map((ts) => ts.key);
    return out;
  }

  /** The latest tasks that ran (`taskStreamKept`), as a ring: `#streamNext` is where the next goes. */
  readonly #stream: TaskStreamEntry[] = [];
  #streamNext = 0;

  /** The tasks that ran (the latest `taskStreamKept`), in the order they finished: `client.getTaskStream()`. */
  get taskStream(): TaskStreamEntry[] {
    const s = this.#stream;
    return s.length < this.#streamKept ? [...s] : [...s.slice(this.#streamNext), ...s.slice(0, this.#streamNext)];
  }

  #ran(ts: TaskState, ws: WorkerState, stamps: RunStamps, status: 'memory' | 'erred'): void {
    // a ring, not a shifted array: once full, each entry replaces the oldest in O(1)
    this.#stream[this.#streamNext] = { key: ts.key, worker: ws.name, thread: stamps.thread, start: stamps.start, end: stamps.end, status };
    this.#streamNext = (this.#streamNext + 1) % this.#streamKept;
  }

  /** Where each key is (data addresses; [] for a key not in memory or unknown); no keys: every key in memory (Dask's `who_has()`). */
  whoHas(keys?: readonly string[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (keys === undefined) {
      for (const ts of this.tasks.values()) if (ts.state === 'memory') out[ts.key] = [...ts.whoHas].map((w) => w.address);
      return out;
    }
    for (const k of keys) out[k] = [...(this.tasks.get(k)?.whoHas ?? [])].map((w) => w.address);
    return out;
  }

  // ---- machinery -------------------------------------------------------------------------

  #finished: { stamps: RunStamps; value: WireValue | undefined } | undefined;
  #erredStamps: RunStamps | undefined;

  #stimulate(stimulus: string, body: (out: Outbox, rec: Recommendations) => void): Outbox {
    this.#stimulus = stimulus;
    const out = new Outbox();
    const rec: Recommendations = new Map();
    body(out, rec);
    this.#drain(rec, out);
    this.#fill(out);
    this.#balance(out);
    this.#finished = undefined;
    this.#erredStamps = undefined;
    if (this.#validate) this.validate();
    return out;
  }

  /** A client wants `ts`: run it (and what it needs), or tell the client where it is or why it failed. */
  #want(ts: TaskState, client: string, out: Outbox, rec: Recommendations): void {
    if (ts.state === 'memory') out.toClient(client, { op: 'key-in-memory', key: ts.key, holders: [...ts.whoHas].map((w) => w.address) });
    else if (ts.state === 'erred') out.toClient(client, this.#erredMessage(ts));
    else if (ts.state === 'released' || ts.state === 'forgotten') rec.set(ts, 'waiting');
  }

  /**
   * Applies recommendations until none are left. Tasks recommended to run wait until the others
   * are done and then start in priority order, so that what becomes ready together starts in
   * the order `order` chose (as the local core's ready stack does).
   */
  #drain(rec: Recommendations, out: Outbox): void {
    for (;;) {
      const ready: TaskState[] = [];
      // one pass of the map's iterator: it also visits what is added while it runs (taking the
      // first entry again each time would skip every deleted one before it: quadratic)
      for (const [ts, to] of rec) {
        rec.delete(ts);
        if (ts.state === to) continue;
        if (to === 'processing' && ts.state === 'waiting') ready.push(ts);
        else this.#apply(ts, to, out, rec);
      }
      if (ready.length === 0) return;
      if (ready.length > 1) ready.sort((a, b) => comparePriority(a.spec, b.spec));
      for (const ts of ready) if (ts.state === 'waiting') this.#apply(ts, 'processing', out, rec);
    }
  }

  #apply(ts: TaskState, to: TaskStateName, out: Outbox, rec: Recommendations): void {
    const transition = TRANSITIONS[`${ts.state}→${to}`] ?? this.#via(ts.state, to);
    if (transition === undefined) throw new Error(`Distributed scheduler: no transition from ${ts.state} to ${to} for ${JSON.stringify(ts.key)}. This is a bug in Skein.`);
    const mine: Recommendations = new Map();
    const from = ts.state;
    transition.call(this, ts, out, mine);
    this.#record({ key: ts.key, from, to: ts.state, stimulus: this.#stimulus, time: clock(), recommended: [...mine].map(([t, s]) => [t.key, s] as const) }, ts);
    for (const [t, s] of mine) rec.set(t, s);
  }

  /** A transition with no direct entry goes through `released` (Dask's rule for missing pairs). */
  #via(from: TaskStateName, to: TaskStateName): Transition | undefined {
    const first = TRANSITIONS[`${from}→released`];
    const second = TRANSITIONS[`released→${to}`];
    if (first === undefined || second === undefined) return undefined;
    return function (this: SchedulerState, ts, out, rec) {
      first.call(this, ts, out, rec);
      if (ts.state === 'released') second.call(this, ts, out, rec);
    };
  }

  /** Hands queued tasks to workers that have room, best priority first. */
  #fill(out: Outbox): void {
    while (this.#queued.size > 0) {
      const ts = this.#queued.peek()!;
      const ws = this.#decideWorker(ts);
      if (ws === undefined || this.#full(ws)) return;
      this.#queued.pop();
      this.#startOn(ts, ws, out);
      this.#record({ key: ts.key, from: 'queued', to: 'processing', stimulus: this.#stimulus, time: clock(), recommended: [] }, ts);
    }
  }

  /**
   * Work stealing: when a worker has nothing to do and nothing waits in the queue, ask the
   * busiest worker for tasks it holds beyond what its threads are running (the latest in
   * priority first, half of them at most, 32 at a time, of groups measured at a millisecond or
   * more). The worker gives back those that have not started;
   * they go to the idle worker. A worker that joins or is restarted gets work this way.
   */
  #balance(out: Outbox): void {
    if (this.#queued.size > 0 || this.workers.size < 2) return;
    let idle = false;
    for (const ws of this.workers.values()) if (ws.processing.size === 0) idle = true;
    if (!idle) return;
    let busiest: WorkerState | undefined;
    for (const ws of this.workers.values()) if (busiest === undefined || ws.processing.size / ws.nthreads > busiest.processing.size / busiest.nthreads) busiest = ws;
    const spare = busiest === undefined ? 0 : busiest.processing.size - 2 * busiest.nthreads;
    if (busiest === undefined || spare < 2) return;
    // only tasks worth a round trip (short ones finish before a steal would), a few at a time
    const candidates: TaskState[] = [];
    let scanned = 0;
    for (const ts of busiest.processing) {
      if (++scanned > STEAL_SCAN) break;
      const measured = this.#durations.get(ts.group)?.mean;
      if (!ts.stealing && ts.spec.workers === undefined && measured !== undefined && measured >= STEAL_MIN_MS) candidates.push(ts);
    }
    candidates.sort((a, b) => comparePriority(b.spec, a.spec));
    const keys = candidates.slice(0, Math.min(Math.floor(spare / 2), STEAL_AT_ONCE)).map((ts) => {
      ts.stealing = true;
      return ts.key;
    });
    if (keys.length > 0) out.toWorker(busiest.address, { op: 'steal', keys });
  }

  /** A state change outside the transition table (scattered data, a retry), logged as the others. */
  #logged(ts: TaskState, to: TaskStateName): void {
    this.#record({ key: ts.key, from: ts.state, to, stimulus: this.#stimulus, time: clock(), recommended: [] });
    ts.state = to;
  }

  /** Every transition goes in the log, and to `onTransition` (scheduler plugins). */
  #record(entry: LogEntry, ts?: TaskState): void {
    // (every caller passes an entry of its own: named here rather than copied)
    if (entry.to === 'processing' && ts?.processingOn !== undefined) (entry as { worker?: string }).worker = ts.processingOn.name;
    this.log.push(entry);
    if (this.log.length >= 2 * this.#logKept) {
      const drop = this.log.length - this.#logKept;
      this.log = this.log.slice(drop);
      this.logStart += drop;
    }
    this.onTransition?.(entry);
  }

  /** Called with every transition as it is logged (set while a scheduler plugin watches them). */
  onTransition: ((entry: LogEntry) => void) | undefined;

  #estimate(ts: TaskState): number {
    return this.#durations.get(ts.group)?.mean ?? UNKNOWN_TASK_MS;
  }

  #measured(ts: TaskState, ms: number): void {
    const d = this.#durations.get(ts.group);
    if (d === undefined) this.#durations.set(ts.group, { mean: ms, count: 1 });
    else {
      // an average that follows change: the last ~20 runs weigh most
      d.count++;
      d.mean += (ms - d.mean) / Math.min(d.count, 20);
    }
  }

  #full(ws: WorkerState): boolean {
    return ws.paused || ws.retiring || ws.processing.size >= ws.nthreads * 2 && ws.occupancy >= ws.nthreads * TARGET_BUSY_MS;
  }

  /** Where `ts` should run: least estimated finish, counting its queue and the input bytes it would fetch. */
  #decideWorker(ts: TaskState): WorkerState | undefined {
    if (this.workers.size === 0) return undefined;
    let local: Map<WorkerState, number> | undefined;
    let total = 0;
    for (const dep of ts.dependencies) {
      total += dep.nbytes;
      for (const ws of dep.whoHas) (local ??= new Map()).set(ws, (local.get(ws) ?? 0) + dep.nbytes);
    }
    let best: WorkerState | undefined;
    let bestCost = Infinity;
    for (const ws of this.workers.values()) {
      if (!allowedOn(ts, ws)) continue;
      const cost = ws.occupancy / ws.nthreads + (total - (local?.get(ws) ?? 0)) / BYTES_PER_MS + (this.#full(ws) ? 1e9 : 0);
      if (cost < bestCost) {
        best = ws;
        bestCost = cost;
      }
    }
    return best;
  }

  #startOn(ts: TaskState, ws: WorkerState, out: Outbox): void {
    const sent = ts.pinnedTo === ws;
    this.#unpin(ts);
    ts.queuedAs = undefined;
    ts.state = 'processing';
    ts.processingOn = ws;
    ts.estimate = this.#estimate(ts);
    ws.processing.add(ts);
    ws.occupancy += ts.estimate;
    if (!sent) out.toWorker(ws.address, this.#computeMessage(ts, undefined));
    const now = clock();
    for (const client of ts.followers.keys()) out.event(client, { key: ts.key, state: 'processing', time: now, ready: ts.readyTime });
    this.#sendAhead(ts, ws, out);
  }

  #computeMessage(ts: TaskState, after: string | undefined): ToWorker {
    const deps = ts.dependencies.map((d) => [d.key, [...d.whoHas].map((w) => w.address)] as const);
    const sendValue = [...ts.followers.values()].some(Boolean);
    return { op: 'compute-task', key: ts.key, task: ts.spec.task, fns: ts.spec.fns, deps, priority: ts.spec.priority, ...(ts.spec.userPriority !== undefined ? { userPriority: ts.spec.userPriority } : {}), sendValue, after };
  }

  /**
   * Sends the next links of a chain to the worker that runs `ts`, before they can run: a link is
   * a task's only dependent, whose only missing input is that task and whose other inputs are
   * already on that worker. The worker runs each as soon as the one before it finishes there,
   * with no round trip to the scheduler in between (the scheduler still moves each through
   * waiting → processing → memory when it hears of its predecessor and of it). Not for tasks a
   * client follows event by event: their processing event must come before they start.
   */
  #sendAhead(ts: TaskState, ws: WorkerState, out: Outbox): void {
    let cur = ts;
    for (let ahead = 0; ahead < CHAIN_AHEAD; ahead++) {
      if (cur.dependents.size !== 1) return;
      const next: TaskState = cur.dependents.values().next().value!;
      if (next.pinnedTo === ws) {
        cur = next;
        continue;
      }
      if (next.state !== 'waiting' || next.pinnedTo !== undefined || next.followers.size > 0 || next.waitingOn.size !== 1 || !next.waitingOn.has(cur) || !allowedOn(next, ws)) return;
      for (const dep of next.dependencies) if (dep !== cur && !dep.whoHas.has(ws)) return;
      next.pinnedTo = ws;
      ws.pinned.add(next);
      out.toWorker(ws.address, this.#computeMessage(next, cur.key));
      cur = next;
    }
  }

  /** Forgets that `ts` was sent ahead; with `out`, tells its worker to drop it. */
  #unpin(ts: TaskState, out?: Outbox): void {
    const ws = ts.pinnedTo;
    if (ws === undefined) return;
    ws.pinned.delete(ts);
    ts.pinnedTo = undefined;
    if (out !== undefined && this.workers.has(ws.address)) out.toWorker(ws.address, { op: 'free-keys', keys: [ts.key] });
  }

  #stopProcessing(ts: TaskState): void {
    const ws = ts.processingOn;
    if (ws === undefined) return;
    ws.processing.delete(ts);
    ws.occupancy = ws.processing.size === 0 ? 0 : Math.max(0, ws.occupancy - ts.estimate);
    ts.processingOn = undefined;
    ts.stealing = false;
  }

  #erredMessage(ts: TaskState): ToClient {
    const root = this.tasks.get(ts.erredBecause ?? ts.key) ?? ts;
    return { op: 'task-erred', key: ts.key, root: root.key, error: root.exception ?? { name: 'Error', message: 'failed', props: {} }, killed: root.killedOn.length > 0 ? [...root.killedOn] : undefined };
  }

  /** Checks every invariant; throws naming the first one broken. */
  validate(): void {
    const fail = (what: string): never => {
      throw new Error(`Distributed scheduler invariant broken: ${what}. This is a bug in Skein.`);
    };
    for (const ts of this.tasks.values()) {
      const k = JSON.stringify(ts.key);
      if (ts.state === 'memory' && ts.whoHas.size === 0) fail(`${k} is in memory on no worker`);
      if (ts.state !== 'memory' && ts.whoHas.size > 0) fail(`${k} is ${ts.state} but held by ${[...ts.whoHas].map((w) => w.name).join(', ')}`);
      if ((ts.state === 'processing') !== (ts.processingOn !== undefined)) fail(`${k} is ${ts.state} with processingOn ${ts.processingOn?.name ?? 'none'}`);
      if (ts.processingOn !== undefined && !ts.processingOn.processing.has(ts)) fail(`${k} is processing on ${ts.processingOn.name}, which does not list it`);
      if (ts.state === 'waiting') for (const d of ts.waitingOn) if (d.state === 'memory') fail(`${k} waits on ${JSON.stringify(d.key)}, which is in memory`);
      if (ts.state === 'processing') for (const d of ts.dependencies) if (d.state !== 'memory') fail(`${k} is processing while its dependency ${JSON.stringify(d.key)} is ${d.state}`);
      if (ts.state === 'forgotten') fail(`${k} is forgotten but still known`);
      if (ts.pinnedTo !== undefined && (ts.state !== 'waiting' || !ts.pinnedTo.pinned.has(ts))) fail(`${k} is ${ts.state} and sent ahead to ${ts.pinnedTo.name}`);
    }
    for (const ws of this.workers.values()) {
      for (const ts of ws.processing) if (ts.processingOn !== ws) fail(`${ws.name} lists ${JSON.stringify(ts.key)} as processing, which runs elsewhere`);
      for (const ts of ws.hasWhat) if (!ts.whoHas.has(ws)) fail(`${ws.name} lists ${JSON.stringify(ts.key)} as held, which does not name it`);
    }
  }

  // ---- the transitions -------------------------------------------------------------------

  /** released → waiting: wait for what is missing; what is missing and released starts too. */
  releasedToWaiting(ts: TaskState, _out: Outbox, rec: Recommendations): void {
    // a forgotten dependency needed again (its dependent's data was lost) is known again
    if (!this.tasks.has(ts.key)) this.tasks.set(ts.key, ts);
    ts.state = 'waiting';
    ts.waitingOn.clear();
    for (const dep of ts.dependencies) {
      dep.waiters.add(ts);
      if (dep.state === 'erred') {
        ts.erredBecause = dep.erredBecause ?? dep.key;
        rec.set(ts, 'erred');
        return;
      }
      if (dep.state !== 'memory') {
        ts.waitingOn.add(dep);
        if (dep.state === 'released' || dep.state === 'forgotten') rec.set(dep, 'waiting');
      }
    }
    if (ts.waitingOn.size === 0) {
      ts.readyTime = clock();
      rec.set(ts, 'processing');
    }
  }

  /** waiting → processing: to the best worker with room; queued when none has room, no-worker when there is none. */
  waitingToProcessing(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const pinned = ts.pinnedTo;
    if (pinned !== undefined) {
      // sent ahead: it is on that worker already, and may be running; unless what it waits for
      // there was computed elsewhere after all (a worker died, a task was stolen): then that
      // worker never starts it, so it is taken back and placed anew
      if (this.workers.has(pinned.address) && ts.dependencies.every((d) => d.whoHas.has(pinned))) {
        this.#startOn(ts, pinned, out);
        return;
      }
      this.#unpin(ts, out);
    }
    const ws = this.#decideWorker(ts);
    if (ws === undefined) {
      ts.state = 'no-worker';
      return;
    }
    // a task restricted to some workers goes to one of them even when it is busy (as in Dask:
    // the queue is for tasks any worker can take)
    if (this.#full(ws) && ts.spec.workers === undefined) {
      ts.state = 'queued';
      if (this.sharedQueue && ts.dependencies.length === 0) {
        ts.queuedAs = ++this.#queueSeq;
        out.queue.push({ key: ts.key, seq: ts.queuedAs });
      } else this.#queued.push(ts);
      return;
    }
    this.#startOn(ts, ws, out);
    void rec;
  }

  /** processing → memory: dependents may start, inputs no one needs any more are released. */
  processingToMemory(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const ws = ts.processingOn!;
    this.#stopProcessing(ts);
    ts.state = 'memory';
    ts.whoHas.add(ws);
    ws.hasWhat.add(ts);
    const finished = this.#finished!;
    const now = clock();
    for (const dep of ts.dependents) {
      if (dep.state !== 'waiting') continue;
      dep.waitingOn.delete(ts);
      if (dep.waitingOn.size === 0) {
        dep.readyTime = now;
        rec.set(dep, 'processing');
      }
    }
    for (const dep of ts.dependencies) {
      dep.waiters.delete(ts);
      if (dep.waiters.size === 0 && dep.whoWants.size === 0 && dep.state === 'memory') rec.set(dep, 'released');
    }
    for (const [client, values] of ts.followers) out.event(client, { key: ts.key, state: 'memory', time: now, ...finished.stamps, value: values ? finished.value : undefined });
    out.completed.push(ts.key);
    const holders = [ws.address];
    for (const client of ts.whoWants) out.toClient(client, { op: 'key-in-memory', key: ts.key, holders });
    if (ts.whoWants.size === 0 && ts.waiters.size === 0) rec.set(ts, 'released');
  }

  /** processing → erred (or waiting/queued/no-worker → erred when a dependency failed): dependents fail with it. */
  toErred(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const stamps = this.#erredStamps;
    this.#stopProcessing(ts);
    this.#queued.remove(ts);
    this.#unpin(ts, out);
    ts.state = 'erred';
    ts.erredBecause ??= ts.key;
    for (const dep of ts.dependencies) dep.waiters.delete(ts);
    for (const dep of ts.dependents) {
      if (dep.state === 'waiting' || dep.state === 'queued' || dep.state === 'no-worker') {
        dep.erredBecause = ts.erredBecause;
        rec.set(dep, 'erred');
      }
    }
    const now = clock();
    const message = this.#erredMessage(ts);
    for (const client of ts.followers.keys()) {
      if (ts.erredBecause === ts.key && message.op === 'task-erred') out.event(client, { key: ts.key, state: 'erred', time: now, error: message.error, ...(stamps ?? {}) });
    }
    for (const client of ts.whoWants) out.toClient(client, message);
  }

  /** memory → released: the data goes; if something still needs it, it is computed again. */
  memoryToReleased(ts: TaskState, out: Outbox, rec: Recommendations): void {
    for (const ws of ts.whoHas) {
      ws.hasWhat.delete(ts);
      out.toWorker(ws.address, { op: 'free-keys', keys: [ts.key] });
    }
    ts.whoHas.clear();
    ts.state = 'released';
    // still wanted: its last holder went, so it is computed again (clients wait for it anew)
    for (const client of ts.whoWants) out.toClient(client, { op: 'lost-data', key: ts.key });
    // a dependent handed out or queued may not have this data yet: it waits for it again
    for (const d of ts.dependents) {
      if (d.state === 'processing' || d.state === 'queued') rec.set(d, 'waiting');
      else this.#unpin(d, out);
    }
    this.#afterRelease(ts, out, rec);
  }

  /** memory → erred: scattered data lost with its last holder; dependents fail, those running too. */
  memoryToErred(ts: TaskState, out: Outbox, rec: Recommendations): void {
    for (const ws of ts.whoHas) ws.hasWhat.delete(ts);
    ts.whoHas.clear();
    for (const dep of ts.dependents) {
      if (dep.state !== 'processing') continue;
      const ws = dep.processingOn;
      if (ws !== undefined && this.workers.has(ws.address)) out.toWorker(ws.address, { op: 'free-keys', keys: [dep.key] });
      dep.erredBecause = ts.key;
      rec.set(dep, 'erred');
    }
    this.toErred(ts, out, rec);
  }

  /** processing → released: the worker died, or nobody wants it any more. */
  processingToReleased(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const ws = ts.processingOn;
    this.#stopProcessing(ts);
    if (ws !== undefined && this.workers.has(ws.address)) out.toWorker(ws.address, { op: 'free-keys', keys: [ts.key] });
    ts.state = 'released';
    this.#afterRelease(ts, out, rec);
  }

  /** waiting, queued or no-worker → released: no longer needed. */
  waitingToReleased(ts: TaskState, out: Outbox, rec: Recommendations): void {
    this.#queued.remove(ts);
    this.#unpin(ts, out);
    ts.state = 'released';
    for (const dep of ts.dependencies) {
      dep.waiters.delete(ts);
      if (dep.waiters.size === 0 && dep.whoWants.size === 0 && dep.state !== 'released' && dep.state !== 'forgotten' && dep.state !== 'erred') rec.set(dep, 'released');
    }
    ts.waitingOn.clear();
    this.#afterRelease(ts, out, rec);
  }

  /** erred → released: forgotten unless wanted. */
  erredToReleased(ts: TaskState, out: Outbox, rec: Recommendations): void {
    ts.state = 'released';
    ts.exception = undefined;
    ts.erredBecause = undefined;
    this.#afterRelease(ts, out, rec);
  }

  #afterRelease(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const now = clock();
    for (const client of ts.followers.keys()) out.event(client, { key: ts.key, state: 'released', time: now });
    const needed = ts.whoWants.size > 0 || [...ts.dependents].some((d) => d.state === 'waiting' || d.state === 'processing' || d.state === 'queued');
    if (needed) {
      for (const d of ts.dependents) {
        if (d.state === 'waiting') d.waitingOn.add(ts);
        // a dependent already running without this input will report it missing; one not started yet waits again
      }
      rec.set(ts, 'waiting');
    } else if (ts.waiters.size === 0 && ts.dependents.size === 0) rec.set(ts, 'forgotten');
  }

  /** released → forgotten: the scheduler drops it, and what only it kept. */
  releasedToForgotten(ts: TaskState, _out: Outbox, rec: Recommendations): void {
    ts.state = 'forgotten';
    this.tasks.delete(ts.key);
    for (const dep of ts.dependencies) {
      dep.dependents.delete(ts);
      dep.waiters.delete(ts);
      if (dep.whoWants.size > 0 || dep.waiters.size > 0 || dep.dependents.size > 0) continue;
      // nothing refers to it any more: its data goes, and so does it
      if (dep.state === 'released' || dep.state === 'erred' || dep.state === 'memory') rec.set(dep, 'forgotten');
    }
  }

  /** processing or queued → waiting: an input it needs was lost; it waits for it again (its other inputs stay). */
  backToWaiting(ts: TaskState, out: Outbox, rec: Recommendations): void {
    const ws = ts.processingOn;
    this.#stopProcessing(ts);
    this.#queued.remove(ts);
    if (ws !== undefined && this.workers.has(ws.address)) out.toWorker(ws.address, { op: 'free-keys', keys: [ts.key] });
    ts.state = 'waiting';
    ts.waitingOn.clear();
    for (const dep of ts.dependencies) {
      dep.waiters.add(ts);
      if (dep.state === 'memory') continue;
      ts.waitingOn.add(dep);
      if (dep.state === 'released' || dep.state === 'forgotten') rec.set(dep, 'waiting');
    }
    if (ts.waitingOn.size === 0) rec.set(ts, 'processing');
  }

  /** no-worker → waiting: a worker joined. */
  noWorkerToWaiting(ts: TaskState, _out: Outbox, rec: Recommendations): void {
    ts.state = 'waiting';
    rec.set(ts, 'processing');
  }

  /** queued → processing happens in #fill; queued → released when cancelled. */
}

const TRANSITIONS: Readonly<Record<string, Transition>> = {
  'released→waiting': SchedulerState.prototype.releasedToWaiting,
  'forgotten→waiting': SchedulerState.prototype.releasedToWaiting,
  'waiting→processing': SchedulerState.prototype.waitingToProcessing,
  'processing→memory': SchedulerState.prototype.processingToMemory,
  'processing→erred': SchedulerState.prototype.toErred,
  'waiting→erred': SchedulerState.prototype.toErred,
  'queued→erred': SchedulerState.prototype.toErred,
  'no-worker→erred': SchedulerState.prototype.toErred,
  'memory→released': SchedulerState.prototype.memoryToReleased,
  'memory→erred': SchedulerState.prototype.memoryToErred,
  'processing→released': SchedulerState.prototype.processingToReleased,
  'waiting→released': SchedulerState.prototype.waitingToReleased,
  'queued→released': SchedulerState.prototype.waitingToReleased,
  'no-worker→released': SchedulerState.prototype.waitingToReleased,
  'erred→released': SchedulerState.prototype.erredToReleased,
  'released→forgotten': SchedulerState.prototype.releasedToForgotten,
  'no-worker→waiting': SchedulerState.prototype.noWorkerToWaiting,
  'processing→waiting': SchedulerState.prototype.backToWaiting,
  'queued→waiting': SchedulerState.prototype.backToWaiting,
};

function newTask(spec: TaskSpec): TaskState {
  return {
    key: spec.key,
    group: keyGroup(spec.key),
    spec,
    state: 'released',
    dependencies: [],
    dependents: new Set(),
    waitingOn: new Set(),
    waiters: new Set(),
    whoHas: new Set(),
    processingOn: undefined,
    pinnedTo: undefined,
    stealing: false,
    retried: 0,
    whoWants: new Set(),
    followers: new Map(),
    nbytes: 0,
    killedOn: [],
    memoryDeaths: [],
    exception: undefined,
    erredBecause: undefined,
    erredOn: undefined,
    ran: undefined,
    readyTime: Number.NaN,
    estimate: 0,
    queuedAs: undefined,
  };
}

function missingDependency(key: string, missing: readonly string[]): WireError {
  return {
    name: 'SkeinError',
    message: `Task ${JSON.stringify(key)} needs ${missing.map((k) => JSON.stringify(k)).join(', ')}, which the scheduler no longer has: no client holds a future for ${missing.length === 1 ? 'it' : 'them'} (released, or never submitted). Keep the future of a result while tasks use it, or submit it again.`,
    props: { code: 'MISSING_DEPENDENCY' },
  };
}


function scatteredLost(key: string, holder: string): WireError {
  return {
    name: 'SkeinError',
    message: `The scattered data ${JSON.stringify(key)} was lost: ${holder}, the only worker holding it, is gone, and scattered data has no task to compute it again. Scatter it again (scatter(data, { broadcast: true }) keeps a copy on every worker), or make it with submit so that it can be recomputed.`,
    props: { code: 'SCATTERED_DATA_LOST' },
  };
}

function killedWorker(ts: TaskState, allowed: number): WireError {
  const workers = ts.killedOn.join(', ');
  if (ts.memoryDeaths.length === ts.killedOn.length) {
    return {
      name: 'KilledWorker',
      message: `Task ${JSON.stringify(ts.key)} was running each time its worker went over its memory limit and was restarted (${ts.memoryDeaths.join('; ')}); after ${allowed} ${allowed === 1 ? 'restart' : 'restarts'} it is not tried again. It needs more memory than a worker has: give workers more (memoryLimit), or split the task so each part needs less.`,
      props: { workers: [...ts.killedOn], memory: true },
    };
  }
  return {
    name: 'KilledWorker',
    message: `Task ${JSON.stringify(ts.key)} was running on ${ts.killedOn.length} workers that died (${workers}); after ${allowed} deaths it is not tried again. The task may crash its worker (out of memory, process.exit, a native crash): run it with the sync scheduler to see why, or raise allowedFailures.`,
    props: { workers: [...ts.killedOn] },
  };
}

/** A binary heap of tasks by priority (lowest first), with removal. */
class PriorityQueue {
  #heap: TaskState[] = [];
  #at = new Map<TaskState, number>();
  get size(): number {
    return this.#heap.length;
  }
  peek(): TaskState | undefined {
    return this.#heap[0];
  }
  push(ts: TaskState): void {
    this.#heap.push(ts);
    this.#at.set(ts, this.#heap.length - 1);
    this.#up(this.#heap.length - 1);
  }
  pop(): TaskState | undefined {
    const top = this.#heap[0];
    if (top !== undefined) this.remove(top);
    return top;
  }
  remove(ts: TaskState): void {
    const i = this.#at.get(ts);
    if (i === undefined) return;
    this.#at.delete(ts);
    const last = this.#heap.pop()!;
    if (i === this.#heap.length) return;
    this.#heap[i] = last;
    this.#at.set(last, i);
    this.#up(i);
    this.#down(this.#at.get(last)!);
  }
  #less(a: TaskState, b: TaskState): boolean {
    return comparePriority(a.spec, b.spec) < 0;
  }
  #swap(i: number, j: number): void {
    const h = this.#heap;
    [h[i], h[j]] = [h[j]!, h[i]!];
    this.#at.set(h[i]!, i);
    this.#at.set(h[j]!, j);
  }
  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(this.#heap[i]!, this.#heap[p]!)) return;
      this.#swap(i, p);
      i = p;
    }
  }
  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(this.#heap[l]!, this.#heap[m]!)) m = l;
      if (r < n && this.#less(this.#heap[r]!, this.#heap[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
