/**
 * The synchronous scheduler: the core with an executor that runs each task inline, in the
 * calling thread, one at a time. Breakpoints and stack traces point straight at user code.
 * An async task function is awaited before the next task starts; with `taskTimeoutMs`, a task
 * whose promise has not settled by then fails (one thread cannot stop code that computes
 * without awaiting: that is what the threads and processes schedulers are for).
 */
import { type Inputs, executeTask, isThenable } from '../core/execute.js';
import { type Executor, stateInputs } from '../core/local.js';
import type { SchedulerState } from '../core/state.js';
import { clock } from '../core/timings.js';
import { Errors } from '../errors.js';

/** `promise`, or a TASK_TIMEOUT failure for `key` once `ms` pass without it settling. */
function withTimeout(promise: PromiseLike<unknown>, ms: number, key: string, timers: Set<NodeJS.Timeout>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      reject(Errors.syncTaskTimeout(key, ms));
    }, ms);
    timers.add(timer);
    const settle = (): void => {
      clearTimeout(timer);
      timers.delete(timer);
    };
    promise.then(
      (v) => {
        settle();
        resolve(v);
      },
      (e: unknown) => {
        settle();
        reject(e);
      },
    );
  });
}

/**
 * Runs one task in place of the plain call (the debugger's: it pauses on errors, takes edited
 * inputs, runs a task again); returns the value or its promise, or throws.
 */
export type RunInPlace = (t: number, task: unknown, state: SchedulerState) => unknown;

export function syncExecutor(taskTimeoutMs: number | null = null, runTask?: RunInPlace): Executor {
  let inputs: Inputs | undefined;
  const timers = new Set<NodeJS.Timeout>();
  return {
    name: 'sync',
    capacity: 1,
    inThread: true,
    prepare(state) {
      inputs = stateInputs(state);
    },
    submit(batch, state, report) {
      const timings = state.timings;
      const measure = timings !== undefined;
      for (const { index, task } of batch) {
        // the core stamped `dispatched` just now, in this same thread: that is when it starts
        const start = measure ? timings.dispatched[index]! : undefined;
        let value: unknown;
        // results stay in this thread: they are in the core's memory the moment the function returns
        try {
          value = runTask === undefined ? executeTask(task, inputs!) : runTask(index, task, state);
        } catch (error) {
          const end = measure ? clock() : undefined;
          report({ index, ok: false, error, worker: 'main', start, end, received: end });
          continue;
        }
        if (isThenable(value)) {
          const busy = measure ? clock() - start! : undefined;
          if (taskTimeoutMs !== null) value = withTimeout(value, taskTimeoutMs, state.graph.keys[index]!, timers);
          (value as PromiseLike<unknown>).then(
            (v) => {
              const end = measure ? clock() : undefined;
              report({ index, ok: true, value: v, worker: 'main', start, end, received: end, busy });
            },
            (error: unknown) => {
              const end = measure ? clock() : undefined;
              report({ index, ok: false, error, worker: 'main', start, end, received: end });
            },
          );
        } else {
          const end = measure ? clock() : undefined;
          report({ index, ok: true, value, worker: 'main', start, end, received: end });
        }
      }
    },
    cancel() {
      // Nothing to stop: a sync task is either finished or an awaited promise we stop waiting for.
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
