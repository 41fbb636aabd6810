/**
 * The synchronous scheduler: the core with an executor that runs each task inline, in the
 * calling thread, one at a time. Breakpoints and stack traces point straight at user code.
 * An async task function is awaited before the next task starts.
 */
import { type Inputs, executeTask, isThenable } from '../core/execute.js';
import { type Executor, stateInputs } from '../core/local.js';
import { clock } from '../core/timings.js';

export function syncExecutor(): Executor {
  let inputs: Inputs | undefined;
  return {
    name: 'sync',
    capacity: 1,
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
          value = executeTask(task, inputs!);
        } catch (error) {
          const end = measure ? clock() : undefined;
          report({ index, ok: false, error, worker: 'main', start, end, received: end });
          continue;
        }
        if (isThenable(value)) {
          value.then(
            (v) => {
              const end = measure ? clock() : undefined;
              report({ index, ok: true, value: v, worker: 'main', start, end, received: end });
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
    },
  };
}
