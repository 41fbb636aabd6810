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
      const measure = state.timings !== undefined;
      for (const { index, task } of batch) {
        const start = measure ? clock() : undefined;
        let value: unknown;
        try {
          value = executeTask(task, inputs!);
        } catch (error) {
          report({ index, ok: false, error, worker: 'main', start, end: measure ? clock() : undefined });
          continue;
        }
        if (isThenable(value)) {
          value.then(
            (v) => report({ index, ok: true, value: v, worker: 'main', start, end: measure ? clock() : undefined }),
            (error: unknown) => report({ index, ok: false, error, worker: 'main', start, end: measure ? clock() : undefined }),
          );
        } else report({ index, ok: true, value, worker: 'main', start, end: measure ? clock() : undefined });
      }
    },
    cancel() {
      // Nothing to stop: a sync task is either finished or an awaited promise we stop waiting for.
    },
  };
}
