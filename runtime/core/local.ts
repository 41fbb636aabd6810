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
import { type Dsk, type Key, getRelations, isTask } from '../graph/spec.js';
import { order } from '../graph/order.js';
import { checkTaskHeads } from '../graph/validate.js';
import type { Callback } from './callbacks.js';
import { isThenable, substitute } from './execute.js';
import { type Priority, type SchedulerState, finishTask, startStateFromGraph } from './state.js';

/** One task handed to an executor. */
export interface TaskRun {
  readonly key: Key;
  /** The graph value: `[fn, ...args]` with dependencies still named by key. */
  readonly task: unknown;
  /** Keys whose results the task reads (all present in the `inputs` given to `submit`). */
  readonly dependencies: readonly Key[];
}

export type TaskOutcome =
  | { readonly key: Key; readonly ok: true; readonly value: unknown; readonly worker?: string }
  | { readonly key: Key; readonly ok: false; readonly error: unknown; readonly worker?: string };

/** How tasks actually run. The only thing that differs between local schedulers. */
export interface Executor {
  /** Scheduler name, for messages and summaries. */
  readonly name: string;
  /** Most tasks in flight at once (the loop never hands out more). */
  readonly capacity: number;
  /** Called once before any task is submitted; may refuse the graph (e.g. unloadable functions). */
  prepare?(dsk: Dsk, state: SchedulerState): void | Promise<void>;
  /**
   * Runs `batch`; reports every task exactly once, in any order, synchronously or later.
   * `inputs` holds every dependency's result at the time of the call.
   */
  submit(batch: readonly TaskRun[], inputs: ReadonlyMap<Key, unknown>, report: (outcome: TaskOutcome) => void): void;
  /** Stops tasks still running after a failure or cancellation (optional). */
  cancel?(): void;
}

export interface GetAsyncOptions {
  readonly executor: Executor;
  readonly callbacks?: readonly Callback[];
  readonly signal?: AbortSignal;
}

type NestedKeys = Key | readonly NestedKeys[];

function flattenKeys(keys: NestedKeys, out: Set<Key>): Set<Key> {
  if (typeof keys === 'string') out.add(keys);
  else for (const k of keys) flattenKeys(k, out);
  return out;
}

function pack(keys: NestedKeys, cache: ReadonlyMap<Key, unknown>): unknown {
  return typeof keys === 'string' ? cache.get(keys) : keys.map((k) => pack(k, cache));
}

function callbackFailed(hook: string, key: Key | undefined, error: unknown): SkeinError {
  const where = key === undefined ? '' : ` for task ${JSON.stringify(key)}`;
  const message = error instanceof Error ? error.message : String(error);
  return new SkeinError('CALLBACK_FAILED', `Callback ${hook}${where} threw: ${message}. The run was stopped; fix or remove the callback.`, { cause: error });
}

/**
 * Runs graph `dsk` (already culled to what `keys` need) and resolves to the value of `keys`:
 * one key gives its value, an array of keys an array of values, nested arrays mirrored.
 */
export async function getAsync(dsk: Dsk, keys: NestedKeys, options: GetAsyncOptions): Promise<unknown> {
  const { executor, signal } = options;
  const callbacks = options.callbacks ?? [];
  const results = flattenKeys(keys, new Set());
  checkTaskHeads(dsk);
  const relations = getRelations(dsk);
  const priority: Priority = order(dsk, relations);

  let state: SchedulerState | undefined;
  let failure: unknown;
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
  const onAbort = (): void => {
    failure ??= Errors.cancelled(signal!.reason, state === undefined ? [] : [...state.finished]);
    wakeUp();
  };

  try {
    for (const cb of callbacks) if (cb.start) invoke(() => cb.start!(dsk), 'start');
    state = startStateFromGraph(dsk, priority, relations);
    for (const cb of callbacks) if (cb.startState) invoke(() => cb.startState!(dsk, state!), 'startState');
    await executor.prepare?.(dsk, state);
    if (signal?.aborted) throw Errors.cancelled(signal.reason, []);
    signal?.addEventListener('abort', onAbort, { once: true });
    await loop(state);
    if (failure !== undefined) throw failure;
    return pack(keys, state.cache);
  } catch (error) {
    failure ??= error;
    throw failure;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (failure !== undefined && state !== undefined && state.running.size > 0) executor.cancel?.();
    if (state !== undefined) {
      for (const cb of callbacks) {
        try {
          cb.finish?.(dsk, state, failure !== undefined);
        } catch (error) {
          failure ??= callbackFailed('finish', undefined, error);
        }
      }
    }
  }

  function invoke<T>(fn: () => T, hook: string, key?: Key): T {
    try {
      return fn();
    } catch (error) {
      throw callbackFailed(hook, key, error);
    }
  }

  async function loop(st: SchedulerState): Promise<void> {
    const { ready, running, cache } = st;
    let read = 0;
    for (;;) {
      // 1. apply every outcome that came back
      while (read < inbox.length) {
        const outcome = inbox[read++]!;
        if (!outcome.ok) {
          running.delete(outcome.key);
          failure ??= Errors.taskFailed(outcome.key, outcome.error, [...st.finished]);
          continue;
        }
        cache.set(outcome.key, outcome.value);
        finishTask(st, outcome.key, results, priority);
        for (const cb of callbacks) {
          if (cb.posttask) invoke(() => cb.posttask!(outcome.key, outcome.value, dsk, st, outcome.worker ?? 'main'), 'posttask', outcome.key);
        }
      }
      if (read > 1024 && read === inbox.length) {
        inbox.length = 0;
        read = 0;
      }
      if (failure !== undefined) {
        if (running.size === 0 || executor.cancel !== undefined) return;
      } else {
        if (ready.length === 0 && running.size === 0) {
          if (st.waiting.size > 0) throw new SkeinError('INTERNAL', `Scheduler stalled with ${st.waiting.size} waiting tasks; this is a bug in Skein.`);
          return;
        }
        // 2. hand out ready tasks up to the executor's capacity
        const room = executor.capacity - running.size;
        if (room > 0 && ready.length > 0) {
          await submitBatch(st, Math.min(room, ready.length));
          continue;
        }
      }
      // 3. wait for something to come back
      if (read === inbox.length) await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  async function submitBatch(st: SchedulerState, n: number): Promise<void> {
    const batch: TaskRun[] = [];
    for (let i = 0; i < n && failure === undefined; i++) {
      const key = st.ready.pop()!;
      st.running.add(key);
      for (const cb of callbacks) {
        if (!cb.pretask) continue;
        const gate = invoke(() => cb.pretask!(key, dsk, st), 'pretask', key);
        if (isThenable(gate)) {
          try {
            await gate;
          } catch (error) {
            throw callbackFailed('pretask', key, error);
          }
        }
      }
      if (failure !== undefined) {
        st.running.delete(key); // cancelled while paused at the gate: never started
        st.ready.push(key);
        break;
      }
      const task = dsk.get(key);
      if (isTask(task)) batch.push({ key, task, dependencies: st.dependencies.get(key)! });
      else report({ key, ok: true, value: substitute(task, st.cache) }); // alias or value with dependencies: no worker needed
    }
    if (batch.length > 0) executor.submit(batch, st.cache, report);
  }
}
