/**
 * Callbacks: the one extension point of the scheduling core (Dask's `Callback` tuple).
 *
 * Every hook is optional. `pretask` may return a promise: the core waits for it before the task
 * is handed to an executor, which is how a debugger pauses the scheduling loop. `finish` always
 * fires, with `failed` set when the run rejects.
 *
 * A callback that throws fails the run cleanly: no further task starts, the other callbacks'
 * `finish` still fires, and `compute` rejects with an error naming the hook and the key.
 */
import type { Dsk, Key } from '../graph/spec.js';
import type { SchedulerState } from './state.js';

export interface Callback {
  /** Ask the core to measure per-task phase timestamps into `state.timings` (see timings.ts). */
  readonly timings?: boolean;
  /** Ask the core to log every state transition into `state.log` (see state.ts), to read as it grows. */
  readonly transitions?: boolean;
  /**
   * Ask for the moment a worker begins each task, not only when the core hands it over: executors
   * that queue tasks ahead of their workers (threads, processes) then log a `begin`
   * (running → running) when a worker starts one (see state.ts `beginTask`). Implies `transitions`.
   */
  readonly starts?: boolean;
  /** Before the state is built: the graph that will run (already culled). */
  start?(dsk: Dsk): void;
  /** Once the starting state exists. */
  startState?(dsk: Dsk, state: SchedulerState): void;
  /** Before a task is handed to a worker. A returned promise pauses scheduling until it settles. */
  pretask?(key: Key, dsk: Dsk, state: SchedulerState): void | PromiseLike<void>;
  /** After a task's result is in memory. `worker` names the worker that ran it. */
  posttask?(key: Key, result: unknown, dsk: Dsk, state: SchedulerState, worker: string): void;
  /** Always, when the run ends. */
  finish?(dsk: Dsk, state: SchedulerState, failed: boolean): void;
}

const registered = new Set<Callback>();

/** Registers callbacks for every run in this process until the returned handle is disposed. */
export function registerCallback(callback: Callback): Disposable & { dispose(): void } {
  registered.add(callback);
  const dispose = (): void => {
    registered.delete(callback);
  };
  return { dispose, [Symbol.dispose]: dispose };
}

/** Globally registered callbacks, in registration order. */
export function globalCallbacks(): Callback[] {
  return [...registered];
}
