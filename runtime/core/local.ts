/**
 * The scheduling core: one loop shared by every local scheduler (Dask's `get_async`).
 *
 * The loop owns the `SchedulerState` and is the only code that changes it. Executors differ in
 * one thing only, how they run a batch of ready tasks (`Executor.submit`): inline in this thread
 * (sync), on worker threads (threads), on child processes (processes). They report each outcome
 * through a callback, synchronously or later; the loop drains outcomes, applies `finishTask`,
 * then refills the executor with ready tasks in priority order until everything is done.
 *
 * Selection policy: `state.ready` is a LIFO stack ordered by the static priorities of `order()`
 * (see state.ts), so execution is depth-first and deterministic. Errors are values: an executor
 * reports `{ok: false}`; the loop then stops handing out work, waits for tasks already in flight
 * to come back, and rejects with an error that names the failed key.
 */
import { Errors, SkeinError } from '../errors.js';
import { type CompiledGraph, GraphView, compileGraph, isCompiledGraph, neededMask } from '../graph/compile.js';
import { orderCompiled } from '../graph/order.js';
import { type Dsk, type Graph, type Key, isTask } from '../graph/spec.js';
import { containsTask } from '../graph/walk.js';
import type { Callback } from './callbacks.js';
import { type Inputs, MISSING, executeTask, isThenable, substitute } from './execute.js';
import { type SchedulerState, TaskStatus, checkInvariants, failTask, finishTask, followOrder, requeueTask, startStateFromGraph, startTask, takeReady } from './state.js';
import { clock, workerId } from './timings.js';

/** One task handed to an executor. */
export interface TaskRun {
  /** Task number in `state.graph`. */
  readonly index: number;
  readonly key: Key;
  /** The graph value: `[fn, ...args]` with dependencies still named by key. */
  readonly task: unknown;
  /**
   * Chain fusion: tasks to run right after this one in the same worker, each reading the
   * previous one's result (each is the only dependent of the one before it).
   */
  readonly continuation?: readonly TaskRun[];
  /** Return this link's value even if only the next link reads it (a posttask callback wants it). */
  readonly keep?: boolean;
}

/** Where and when a task ran, as the executor measured it (only needed when `state.timings` is on). */
interface OutcomeStamps {
  readonly worker?: string;
  /** Clock (timings.ts) when the user's function started and returned, in the worker. */
  readonly start?: number;
  readonly end?: number;
  /** Size of the serialized result, where the executor serialized it. */
  readonly bytes?: number;
  /** When the result reached the core's memory, if the executor knows (in-thread executors: `end`). */
  readonly received?: number;
  /** ms the task kept its thread busy (until it returned its promise, for one that waits); else end − start. */
  readonly busy?: number;
}

export type TaskOutcome =
  | ({ readonly index: number; readonly ok: true; readonly value: unknown } & OutcomeStamps)
  | ({ readonly index: number; readonly ok: false; readonly error: unknown } & OutcomeStamps);

/** How tasks actually run. The only thing that differs between local schedulers. */
export interface Executor {
  /** Scheduler name, for messages and summaries. */
  readonly name: string;
  /** Most tasks in flight at once (the loop never hands out more). */
  readonly capacity: number;
  /** Called once before any task is submitted; may refuse the graph (e.g. unloadable functions). */
  prepare?(state: SchedulerState): void | Promise<void>;
  /**
   * Runs `batch`; reports every task exactly once, in any order, synchronously or later. The
   * results of every task's dependencies are in `state.cache` at the time of the call.
   */
  submit(batch: readonly TaskRun[], state: SchedulerState, report: (outcome: TaskOutcome) => void): void;
  /**
   * The run is over before its tasks are: `'failed'` after a task failed (drop what is not
   * started; tasks running may finish, their outcomes are no longer wanted), `'aborted'` when
   * the run was cancelled (stop running tasks too).
   */
  cancel?(how: 'failed' | 'aborted'): void;
  /** Accepts fused chains (`TaskRun.continuation`): a chain costs one round trip, not one per link. */
  readonly fuseChains?: boolean;
  /** Runs tasks in the calling thread (sync, the debugger): a failed task has nothing to re-run here. */
  readonly inThread?: boolean;
  /**
   * Tasks handed over may wait in a queue before a worker begins them; where `state.begins` is
   * set, the executor calls `beginTask` as workers begin them (state.ts).
   */
  readonly queuesAhead?: boolean;
}

/** With a signal to honour, the loop lets the event loop run at least this often (ms). */
const YIELD_EVERY_MS = 10;

/** Runs in progress in this process, each with what it waits for (see `sayWhatWasPending`). */
const runsInProgress = new Set<() => string>();
let exitWatched = false;

/**
 * Node ends a process whose top-level await can never settle with exit code 13 and no word of
 * why. When a run is what it waited for, say so: which run, how far it got, what it waited on.
 */
function sayWhatWasPending(code: number): void {
  // Node 20 passes 0 to 'exit' listeners for an unsettled top-level await, with exitCode 13
  if (code !== 13 && process.exitCode !== 13) return;
  for (const describe of runsInProgress) process.stderr.write(`skein: ${describe()}\n`);
}

/** Longest chain handed out as one unit. */
const MAX_CHAIN = 1000;

export interface GetAsyncOptions {
  readonly executor: Executor;
  readonly callbacks?: readonly Callback[];
  readonly signal?: AbortSignal;
  /**
   * When a task fails in a worker, run it again here, in the calling thread, with the same
   * inputs (Dask's `rerun_exceptions_locally`), so a debugger stops in it; the local error
   * becomes the cause. Not for timeouts or dead workers.
   */
  readonly rerunExceptionsLocally?: boolean;
  /** Check the state's invariants after every step (tests; costs O(tasks) per step). */
  readonly validate?: boolean;
}

/** Errors that say something about the worker, not the task: re-running them here would not help. */
function isWorkerFailure(error: unknown): boolean {
  return error instanceof SkeinError && (error.code === 'TASK_TIMEOUT' || error.code === 'WORKER_DIED' || error.code === 'CANCELLED');
}

type NestedKeys = Key | readonly NestedKeys[];

export function flattenKeys(keys: NestedKeys, out: Key[]): Key[] {
  if (typeof keys === 'string') out.push(keys);
  else for (const k of keys) flattenKeys(k, out);
  return out;
}

/** Up to five keys, quoted, and how many more. */
function listShort(keys: readonly Key[]): string {
  const shown = keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
  return keys.length > 5 ? `${shown} and ${keys.length - 5} more` : shown;
}


/** Results readable by tasks: held results of the state, by key. */
export function stateInputs(state: SchedulerState): Inputs {
  const { index } = state.graph;
  const { status, cache } = state;
  return {
    lookup(key) {
      const t = index.get(key);
      return t !== undefined && status[t] === TaskStatus.memory ? cache[t] : MISSING;
    },
  };
}

/** Compiles `dsk`, dropping what `keys` do not need. Missing keys are refused. */
export function prepareGraph(source: Graph | CompiledGraph, keys: readonly Key[]): { graph: CompiledGraph; wanted: number[] } {
  let graph = isCompiledGraph(source) ? source : compileGraph(source);
  const wanted = keys.map((k) => {
    const t = graph.index.get(k);
    if (t === undefined) throw Errors.missingKey(k, graph.keys);
    return t;
  });
  const needed = neededMask(graph, wanted);
  if (needed === null) return { graph, wanted };
  const culled = new Map<Key, unknown>();
  for (let t = 0; t < graph.size; t++) if (needed[t] === 1) culled.set(graph.keys[t]!, graph.values[t]);
  graph = compileGraph(culled);
  return { graph, wanted: keys.map((k) => graph.index.get(k)!) };
}

/**
 * Runs graph `dsk` and resolves to the value of `keys`: one key gives its value, an array of
 * keys an array of values, nested arrays mirrored. Only what `keys` need runs.
 */
export async function getAsync(source: Graph | CompiledGraph, keys: NestedKeys, options: GetAsyncOptions): Promise<unknown> {
  const { executor, signal } = options;
  const callbacks = options.callbacks ?? [];
  const { graph, wanted } = prepareGraph(source, flattenKeys(keys, []));
  // the (culled) graph as a read-only Map, for callbacks
  const dsk: Dsk = new GraphView(graph);
  const priority = orderCompiled(graph);
  const isResult = new Uint8Array(graph.size);
  for (const t of wanted) isResult[t] = 1;

  let state: SchedulerState | undefined;
  let failure: unknown;
  let fuse = false; // chain fusion: only for executors that accept it, and never under a pretask gate
  const keepLinks = callbacks.some((cb) => cb.posttask !== undefined); // posttask sees every result
  const inbox: TaskOutcome[] = [];
  let wake: (() => void) | undefined;
  const wakeUp = (): void => {
    if (wake !== undefined) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const report = (outcome: TaskOutcome): void => {
    inbox.push(outcome);
    wakeUp();
  };
  const finishedKeys = (): Key[] => (state === undefined ? [] : state.finished.map((t) => graph.keys[t]!));
  let abortedNow: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => (abortedNow = resolve)); // settles when the signal aborts
  const onAbort = (): void => {
    failure ??= Errors.cancelled(signal!.reason, finishedKeys());
    wakeUp();
    abortedNow();
  };

  const pending = (): string => {
    const waiting = state === undefined ? [] : [...state.running].map((t) => graph.keys[t]!);
    const done = state?.finished.length ?? 0;
    return `the process is ending while a ${executor.name} run of ${graph.size} tasks still waits (${done} finished): ${waiting.length > 0 ? `tasks ${listShort(waiting)} never finished (a promise that never settles?)` : 'no task is running'}. Set taskTimeoutMs to fail tasks that hang.`;
  };
  runsInProgress.add(pending);
  if (!exitWatched) {
    exitWatched = true;
    process.on('exit', sayWhatWasPending);
  }

  try {
    for (const cb of callbacks) if (cb.start) invoke(() => cb.start!(dsk), 'start');
    state = startStateFromGraph(graph, priority, isResult, callbacks.some((cb) => cb.timings === true), options.validate === true || callbacks.some((cb) => cb.transitions === true || cb.starts === true));
    state.begins = executor.queuesAhead === true && callbacks.some((cb) => cb.starts === true);
    // one task at a time in this thread: always the one `order` ranks first (Dask's rule for get_sync)
    if (executor.inThread === true) followOrder(state);
    for (const cb of callbacks) if (cb.startState) invoke(() => cb.startState!(dsk, state!), 'startState');
    if (signal?.aborted) throw Errors.cancelled(signal.reason, []);
    await executor.prepare?.(state);
    if (signal?.aborted) throw Errors.cancelled(signal.reason, []);
    signal?.addEventListener('abort', onAbort, { once: true });
    await loop(state);
    if (failure !== undefined) throw failure;
    const pack = (k: NestedKeys): unknown => (typeof k === 'string' ? state!.cache[graph.index.get(k)!] : k.map(pack));
    return pack(keys);
  } catch (error) {
    failure ??= error;
    throw failure;
  } finally {
    runsInProgress.delete(pending);
    signal?.removeEventListener('abort', onAbort);
    if (failure !== undefined && state !== undefined && state.running.size > 0) {
      executor.cancel?.(failure instanceof SkeinError && failure.code === 'CANCELLED' ? 'aborted' : 'failed');
    }
    if (state !== undefined) {
      const failedBefore = failure !== undefined;
      for (const cb of callbacks) {
        try {
          cb.finish?.(dsk, state, failedBefore);
        } catch (error) {
          failure ??= Errors.callbackFailed('finish', undefined, error);
        }
      }
      // a finish hook that throws fails a run that had succeeded (callbacks.ts)
      // eslint-disable-next-line no-unsafe-finally -- replacing the result with the error is the point
      if (!failedBefore && failure !== undefined) throw failure;
    }
  }

  function invoke<T>(fn: () => T, hook: string, key?: Key): T {
    try {
      return fn();
    } catch (error) {
      throw Errors.callbackFailed(hook, key, error);
    }
  }

  async function loop(st: SchedulerState): Promise<void> {
    const { ready, running } = st;
    // a fused link's value stays in the worker; re-running a failed link here needs its inputs
    fuse = executor.fuseChains === true && !options.rerunExceptionsLocally && !callbacks.some((cb) => cb.pretask !== undefined);
    const hasPosttask = callbacks.some((cb) => cb.posttask !== undefined);
    const timings = st.timings;
    let lastWorker = '';
    let lastWorkerId = -1;
    let lastYield = clock();
    let read = 0;
    for (;;) {
      // 1. apply every outcome that came back
      // one clock reading for everything that arrived together (in-thread executors bring their own)
      const first = read < inbox.length ? inbox[read]! : undefined;
      const received = timings === undefined || first === undefined ? 0 : (first.received ?? clock());
      while (read < inbox.length) {
        const outcome = inbox[read++]!;
        const t = outcome.index;
        if (timings !== undefined) {
          // a link of a fused chain was handed over with the link before it, and began when that one returned
          if (Number.isNaN(timings.dispatched[t]!) && outcome.start !== undefined) timings.dispatched[t] = outcome.start;
          if (outcome.start !== undefined) timings.started[t] = outcome.start;
          if (outcome.end !== undefined) timings.finished[t] = outcome.end;
          if (outcome.bytes !== undefined) timings.resultBytes[t] = outcome.bytes;
          if (outcome.busy !== undefined) timings.busy[t] = outcome.busy;
          else if (outcome.start !== undefined && outcome.end !== undefined) timings.busy[t] = outcome.end - outcome.start;
          if (outcome.worker !== undefined) {
            if (outcome.worker !== lastWorker) {
              lastWorker = outcome.worker;
              lastWorkerId = workerId(timings, lastWorker);
            }
            timings.worker[t] = lastWorkerId;
          }
        }
        if (!outcome.ok) {
          failTask(st, t, timings === undefined ? undefined : received);
          if (failure === undefined) {
            let cause = outcome.error;
            if (options.rerunExceptionsLocally && executor.inThread !== true && !isWorkerFailure(cause)) cause = await rerunLocally(st, t, cause);
            failure ??= Errors.taskFailed(graph.keys[t]!, cause, finishedKeys());
          }
          continue;
        }
        finishTask(st, t, outcome.value, outcome.received ?? received);
        if (hasPosttask) {
          const key = graph.keys[t]!;
          for (const cb of callbacks) {
            if (cb.posttask) invoke(() => cb.posttask!(key, outcome.value, dsk, st, outcome.worker ?? 'main'), 'posttask', key);
          }
        }
      }
      if (read === inbox.length && read > 0) {
        inbox.length = 0;
        read = 0;
      }
      if (options.validate === true) checkInvariants(st);
      if (failure !== undefined) {
        if (running.size === 0 || executor.cancel !== undefined) return;
      } else {
        if (ready.length === 0 && running.size === 0) {
          if (wanted.some((t) => st.status[t] !== TaskStatus.memory)) {
            throw Errors.internal('Scheduler stalled with tasks still waiting');
          }
          return;
        }
        // 2. hand out ready tasks up to the executor's capacity
        // Refill in large steps: waiting until half the capacity is free (or the executor is
        // idle) keeps batches big, so thousands of tiny tasks do not pay a message each.
        const room = Math.min(executor.capacity - running.size, ready.length);
        if (room > 0 && (running.size === 0 || room >= Math.min(ready.length, executor.capacity >> 1))) {
          const gated = submitBatch(st, room);
          if (gated !== undefined) await Promise.race([gated, aborted]);
          else if (signal !== undefined && clock() - lastYield >= YIELD_EVERY_MS) {
            // tasks that finish in this thread never wait: let a cancellation (Ctrl-C) in between
            await new Promise<void>((resolve) => setImmediate(resolve));
            lastYield = clock();
          }
          continue;
        }
      }
      // 3. wait for something to come back
      if (read === inbox.length) await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  /** Runs task `t` in this thread with the inputs it had; the local error, or `remote` if it passes here. */
  async function rerunLocally(st: SchedulerState, t: number, remote: unknown): Promise<unknown> {
    try {
      const value = executeTask(graph.values[t], stateInputs(st));
      if (isThenable(value)) await value;
      return remote;
    } catch (error) {
      return error;
    }
  }

  /** Runs every pretask hook for `key`; a promise when one of them gates (pauses) the run. */
  function pretasks(key: Key, st: SchedulerState): Promise<unknown> | undefined {
    let gates: PromiseLike<void>[] | undefined;
    for (const cb of callbacks) {
      if (!cb.pretask) continue;
      const gate = invoke(() => cb.pretask!(key, dsk, st), 'pretask', key);
      if (isThenable(gate)) (gates ??= []).push(gate);
    }
    if (gates === undefined) return undefined;
    return Promise.all(gates).catch((error: unknown) => {
      throw Errors.callbackFailed('pretask', key, error);
    });
  }

  /** Moves task `t` to running and into `batch` (or evaluates it here when it calls nothing). */
  function enqueue(t: number, batch: TaskRun[], st: SchedulerState, now: number | undefined): void {
    const task = graph.values[t];
    const timings = st.timings;
    if (containsTask(task)) {
      // a task, or a list or object holding one: user code, so it runs where the executor runs tasks
      const continuation = fuse && isTask(task) ? chainAfter(t, st) : undefined;
      batch.push({ index: t, key: graph.keys[t]!, task, continuation, keep: keepLinks });
      if (timings !== undefined) timings.dispatched[t] = now ?? clock();
    } else {
      // an alias or a value with dependencies and no function: evaluated here, no worker needed
      const start = timings === undefined ? undefined : (now ?? clock());
      if (timings !== undefined) timings.dispatched[t] = start!;
      const value = substitute(task, stateInputs(st));
      report({ index: t, ok: true, value, start, end: start === undefined ? undefined : clock() });
    }
  }

  /**
   * The chain that can follow task `t` in the same worker: while the current task has exactly
   * one dependent, and that dependent waits for nothing else, it joins the chain (and counts as
   * running from now on, so finishTask never makes it ready again).
   */
  function chainAfter(t: number, st: SchedulerState): TaskRun[] | undefined {
    const { dependentStart, dependents, values, keys } = graph;
    let chain: TaskRun[] | undefined;
    let current = t;
    while ((chain?.length ?? 0) < MAX_CHAIN && dependentStart[current + 1]! - dependentStart[current]! === 1) {
      const d = dependents[dependentStart[current]!]!;
      const task = values[d];
      if (st.waiting[d] !== 1 || !isTask(task)) break;
      startTask(st, d);
      (chain ??= []).push({ index: d, key: keys[d]!, task, keep: keepLinks });
      current = d;
    }
    return chain;
  }

  /**
   * Takes up to `n` ready tasks, runs their pretask hooks and hands them to the executor.
   * Synchronous unless a hook gates: then the tasks taken so far are submitted once it opens,
   * and the loop asks again for the rest.
   */
  function submitBatch(st: SchedulerState, n: number): Promise<void> | undefined {
    const batch: TaskRun[] = [];
    const hasPretask = callbacks.some((cb) => cb.pretask !== undefined);
    for (let i = 0; i < n; i++) {
      const t = takeReady(st);
      // measured: one clock reading is both the start transition's time and the dispatch stamp
      const now = st.timings === undefined ? undefined : clock();
      startTask(st, t, now);
      const gate = hasPretask ? pretasks(graph.keys[t]!, st) : undefined;
      if (gate !== undefined) {
        return gate.then(() => {
          if (failure !== undefined) requeueTask(st, t); // cancelled while paused at the gate: never started
          else enqueue(t, batch, st, now === undefined ? undefined : clock());
          if (batch.length > 0) executor.submit(batch, st, report);
        });
      }
      enqueue(t, batch, st, now);
    }
    if (batch.length > 0) executor.submit(batch, st, report);
    return undefined;
  }
}
