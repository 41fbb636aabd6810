/**
 * Every message of the distributed scheduler, typed once: one union per direction. Comms carry
 * them in batches (comm.ts), so many small messages cost one frame. Values never travel through
 * the scheduler: a worker fetches a task's inputs from the workers that hold them (`get-data`
 * on the holder's data address), and a client fetches its results the same way.
 *
 * A value on the wire is a `WireValue`: the value as structured clone / v8 serialization leaves
 * it, with where its Buffers and class instances are so the receiver can make it whole
 * (workers/wireValues.ts), exactly as the threads and processes schedulers send results.
 */
import type { FnRef, WireError } from '../workers/protocol.js';
import type { Path, WireClasses } from '../workers/wireValues.js';
import type { ProfileNode } from '../diagnostics/flame.js';
import type { PluginStatus, WirePlugin } from './plugins.js';

/** A task as a client submits it: its graph value in wire form (workers/wireTasks.ts), the functions it calls, its dependencies. */
export interface TaskSpec {
  readonly key: string;
  /** The graph value, functions replaced by markers indexing `fns`. */
  readonly task: unknown;
  readonly fns: readonly FnRef[];
  readonly deps: readonly string[];
  /** Lower runs first: `order` within the graph, graphs in the order they were submitted. */
  readonly priority: number;
  /** The user's priority (`client.options({ priority })`): higher runs first, before `priority` is looked at (Dask's rule). */
  readonly userPriority?: number;
  /** Times the task runs again when it raises, before it fails (`submit`'s `retries`; default 0). */
  readonly retries?: number;
  /** Workers (names or addresses) the task may run on (`submit`'s `workers`); absent: any. */
  readonly workers?: readonly string[];
  /** Data a client scattered: it has no recipe, so when its last holder goes it is lost, never computed. */
  readonly scattered?: true;
}

/** A value with what the receiver needs to restore its Buffers and class instances. */
export interface WireValue {
  readonly value: unknown;
  readonly buffers?: readonly Path[];
  readonly classes?: WireClasses;
}

/** Times and place of a task's run, as its worker measured them (clock of timings.ts). */
export interface RunStamps {
  readonly start: number;
  readonly end: number;
  /** `<worker name>/thread-<id>`: one lane per worker thread. */
  readonly thread: string;
}

// ---- to the scheduler --------------------------------------------------------------------

export type ToScheduler =
  | { readonly op: 'register-client'; readonly client: string }
  /** `clock`: the worker's clock as it sent this (clock offsets: worker.ts #clockSample). */
  | { readonly op: 'register-worker'; readonly name: string; readonly dataAddress: string; readonly nthreads: number; readonly pid: number; readonly memoryLimit: number | null; readonly clock: number; readonly node: string; readonly held?: ReadonlyArray<readonly [key: string, nbytes: number]> }
  | {
      readonly op: 'update-graph';
      readonly client: string;
      readonly tasks: readonly TaskSpec[];
      /** Keys the client holds futures for. */
      readonly wanted: readonly string[];
      /** Send this client every transition of these tasks (local callbacks, progress, records). */
      readonly events: boolean;
      /** Send the value of every task with its event (a posttask callback wants them). */
      readonly values: boolean;
    }
  | { readonly op: 'scatter'; readonly client: string; readonly keys: readonly string[]; readonly nbytes: readonly number[]; readonly worker: string }
  | { readonly op: 'release-keys'; readonly client: string; readonly keys: readonly string[] }
  | { readonly op: 'cancel-keys'; readonly client: string; readonly keys: readonly string[] }
  | { readonly op: 'retry-keys'; readonly client: string; readonly keys: readonly string[] }
  | { readonly op: 'who-has'; readonly id: number; readonly keys?: readonly string[] }
  | { readonly op: 'scheduler-info'; readonly id: number }
  | { readonly op: 'story'; readonly id: number; readonly key: string }
  | { readonly op: 'has-what'; readonly id: number }
  /** `client.restart()`: cancel every future, start every worker process again; the reply comes once they are back. */
  | { readonly op: 'restart'; readonly id: number }
  /** The workers' sampled profile so far (null: profiling is off). */
  | { readonly op: 'get-profile'; readonly id: number }
  /** What a performance report shows of the time since `start` (PerformanceData). */
  | { readonly op: 'performance-data'; readonly id: number; readonly start: number }
  /** Tasks that ran since `start` (clock ms), oldest first. */
  | { readonly op: 'task-stream'; readonly id: number; readonly start: number }
  /** Runs an exported function in the scheduler's process; the reply is `{ ok, value }` or `{ ok: false, error }`. */
  | { readonly op: 'run-on-scheduler'; readonly id: number; readonly fn: FnRef; readonly args: readonly unknown[] }
  /** A worker plugin (set up on every worker, now and as they join) or a scheduler plugin; the reply is a PluginReply. */
  | { readonly op: 'register-plugin'; readonly id: number; readonly plugin: WirePlugin }
  | { readonly op: 'unregister-plugin'; readonly id: number; readonly name: string }
  /** A worker set up (or tore down) a plugin: `id` of the request, 0 for those it got as it joined. */
  | { readonly op: 'plugin-result'; readonly id: number; readonly name: string; readonly error?: WireError }
  | ({ readonly op: 'task-finished'; readonly key: string; readonly nbytes: number; readonly value?: WireValue } & RunStamps)
  | ({ readonly op: 'task-erred'; readonly key: string; readonly error: WireError } & RunStamps)
  /** A worker could not fetch `dep` from `holder` for `key`: the holder is gone or lost it. */
  | { readonly op: 'missing-data'; readonly key: string; readonly dep: string; readonly holder: string }
  /**
   * Once a second: its threads running a task, its process's resident memory (bytes) and CPU (1 =
   * one core); `clock`: its clock as it sent this; `offset`: its estimate of the scheduler's clock
   * minus its own.
   */
  | { readonly op: 'heartbeat'; readonly executing: number; readonly memory: number; readonly cpu: number; readonly managed: number; readonly spilled: number; readonly received?: ReadonlyArray<readonly [holder: string, bytes: number]>; readonly clock: number; readonly offset: number }
  /** Its process went over (or back under) the memory limit's pause threshold: no new task starts there meanwhile. */
  | { readonly op: 'worker-paused'; readonly paused: boolean; readonly memory: number }
  /** Its process went over the terminate threshold: it ends now (its nanny starts it again), having run `running`. */
  | { readonly op: 'memory-exceeded'; readonly memory: number; readonly limit: number; readonly terminate: number; readonly running: readonly string[] }
  /** With profiling on: the task threads' samples since the last one (diagnostics/flame.ts). */
  | { readonly op: 'profile'; readonly intervalMs: number; readonly root: ProfileNode }
  /** It now holds copies of these results (an `acquire`); `missing`: ones no holder had. */
  | { readonly op: 'keys-added'; readonly keys: readonly string[]; readonly missing: readonly string[] }
  /** The answer to a steal: `stolen` when the task had not started and was dropped. */
  | { readonly op: 'steal-response'; readonly key: string; readonly stolen: boolean }
  /** Tasks it pulled from the shared work queue (over NATS): each with its queue number, and whether JetStream delivered it before. */
  | { readonly op: 'claim'; readonly claims: ReadonlyArray<{ readonly key: string; readonly seq: number; readonly redelivered: boolean }> };

// ---- to a worker -------------------------------------------------------------------------

export type ToWorker =
  /** With the worker plugins registered so far: it sets them up before it starts a task. */
  | { readonly op: 'registered'; readonly address: string; readonly instance: string; readonly name: string; readonly plugins: readonly WirePlugin[]; readonly clock: number; readonly echo: number }
  /** The scheduler will not take this worker (another major version of Node.js): why, said to the user. */
  | { readonly op: 'refused'; readonly reason: string }
  /** The scheduler's clock when a heartbeat sent at `echo` (the worker's clock) arrived. */
  | { readonly op: 'clock'; readonly clock: number; readonly echo: number }
  /** Set up this plugin (replacing one of the same name); answered by `plugin-result`. */
  | { readonly op: 'plugin-add'; readonly id: number; readonly plugin: WirePlugin }
  /** Tear down this plugin and forget it; answered by `plugin-result`. */
  | { readonly op: 'plugin-remove'; readonly id: number; readonly name: string }
  | {
      readonly op: 'compute-task';
      readonly key: string;
      readonly task: unknown;
      readonly fns: readonly FnRef[];
      /** Each dependency with the data addresses of the workers that hold it. */
      readonly deps: ReadonlyArray<readonly [key: string, holders: readonly string[]]>;
      readonly priority: number;
      /** The user's priority: higher runs first, before `priority`. */
      readonly userPriority?: number;
      /** Send the value back with the result (a client asked for every value). */
      readonly sendValue: boolean;
      /** Sent ahead: run it once this task, the one before it in its chain, has finished here. */
      readonly after?: string;
    }
  | { readonly op: 'free-keys'; readonly keys: readonly string[] }
  /** Fetch these results from their holders and keep copies (a worker that holds them is retiring); answered by `keys-added`. */
  | { readonly op: 'acquire'; readonly keys: ReadonlyArray<readonly [key: string, holders: readonly string[]]> }
  /** Give these tasks back if they have not started (work stealing); answered by `steal-response`. */
  | { readonly op: 'steal'; readonly keys: readonly string[] }
  /**
   * A claim of a task from the shared work queue that is not this worker's to run (done, let go,
   * queued again since), or not yet (`later`: running on a worker not yet silent long enough to be
   * taken as dead).
   */
  | { readonly op: 'claim-refused'; readonly key: string; readonly seq: number; readonly later: boolean }
  | { readonly op: 'close' };

// ---- to a client -------------------------------------------------------------------------

/** One transition of a task a client follows: `processing` on a worker, `memory`, `erred`, `released`. */
export type TaskEvent =
  | { readonly key: string; readonly state: 'processing'; readonly time: number; readonly ready: number }
  | ({ readonly key: string; readonly state: 'memory'; readonly time: number; readonly value?: WireValue } & RunStamps)
  | ({ readonly key: string; readonly state: 'erred'; readonly time: number; readonly error: WireError; readonly worker?: string } & Partial<RunStamps>)
  | { readonly key: string; readonly state: 'released'; readonly time: number };

export interface WorkerInfo {
  readonly address: string;
  readonly name: string;
  readonly pid: number;
  readonly nthreads: number;
  readonly memoryLimit: number | null;
  /** Its process's resident memory at its last heartbeat (bytes). */
  readonly memory: number;
  /** Of which results it holds (managed); the rest is the process's own (unmanaged). */
  readonly managed: number;
  readonly unmanaged: number;
  /** Results it spilled to its disk (bytes). */
  readonly spilled: number;
  /** Over its memory limit's pause threshold: starting no new task. */
  readonly paused: boolean;
  readonly processing: number;
  /** Its threads running a task at its last heartbeat. */
  readonly executing: number;
  readonly keys: number;
  readonly lastSeen: number;
  /**
   * The scheduler's clock minus the worker's (ms), as the worker estimates it from round trips; the
   * times it reports (the task stream's) are corrected by it, so workers on machines whose clocks
   * differ line up.
   */
  readonly clockOffset: number;
  /** Bytes it fetched from each other worker (by name) since it joined. */
  readonly received: Readonly<Record<string, number>>;
  /** Each worker plugin's setup there: `{ ok: true }`, or what it threw. */
  readonly plugins: Readonly<Record<string, PluginStatus>>;
}

/** The scheduler's answer to `register-plugin` and `unregister-plugin`. */
export type PluginReply =
  | { readonly ok: true; readonly workers?: Readonly<Record<string, PluginStatus>> }
  | { readonly ok: false; readonly message: string };

export type ToClient =
  /** The answer to register-client: the client knows this scheduler took it. */
  /**
   * `instance`: the scheduler's id; `journal`: it keeps one (over NATS with JetStream), so a
   * scheduler started after it takes up its work; `known`: the keys this client holds futures
   * for that it knows (a client joining again: the others are lost).
   */
  | { readonly op: 'welcome'; readonly instance: string; readonly journal: boolean; readonly known: readonly string[]; readonly dashboard?: string }
  | { readonly op: 'events'; readonly events: readonly TaskEvent[] }
  /** A wanted key is in memory on these workers (data addresses). */
  | { readonly op: 'key-in-memory'; readonly key: string; readonly holders: readonly string[] }
  /** A wanted key failed: `root` is the task that raised (the key itself, or a dependency), `killed` the workers that died running it. */
  | { readonly op: 'task-erred'; readonly key: string; readonly root: string; readonly error: WireError; readonly killed?: readonly string[] }
  | { readonly op: 'cancelled'; readonly key: string }
  /** A wanted key left memory (its last holder died): it is being computed again; where it is comes with `key-in-memory`. */
  | { readonly op: 'lost-data'; readonly key: string }
  /** The answer to a request with an id; `error`: why it was refused (a wrong argument) or failed. */
  | { readonly op: 'reply'; readonly id: number; readonly value: unknown; readonly error?: string }
  /** A request without an id was refused: what it was and why (Skein's client warns). */
  | { readonly op: 'request-refused'; readonly request: string; readonly message: string }
  | { readonly op: 'closing' };

// ---- between holders of data (worker to worker, client to worker) ---------------------

export type DataRequest =
  | { readonly op: 'get-data'; readonly id: number; readonly keys: readonly string[] }
  | { readonly op: 'put-data'; readonly id: number; readonly items: ReadonlyArray<readonly [string, WireValue]> }
  /** `client.run`: call an exported function in the worker's process (its main thread), with these arguments. */
  | { readonly op: 'run'; readonly id: number; readonly fn: FnRef; readonly args: readonly unknown[] };

/** What `run` and `run-on-scheduler` answer. */
export type RunOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

/** A task as `client.getTaskStream()` lists it. */
export interface TaskStreamEntry {
  readonly key: string;
  readonly worker: string;
  readonly thread: string;
  readonly start: number;
  readonly end: number;
  readonly status: 'memory' | 'erred';
}

export type DataReply =
  | { readonly op: 'data'; readonly id: number; readonly items: ReadonlyArray<readonly [string, WireValue]>; readonly missing: readonly string[] }
  | { readonly op: 'put-done'; readonly id: number }
  | ({ readonly op: 'ran'; readonly id: number } & RunOutcome);
