/**
 * The synchronous scheduler: the core with an executor that runs each task inline, in the
 * calling thread, one at a time. Breakpoints and stack traces point straight at user code.
 * An async task function is awaited before the next task starts.
 */
import { executeTask, isThenable } from '../core/execute.js';
import type { Executor } from '../core/local.js';

export function syncExecutor(): Executor {
  return {
    name: 'sync',
    capacity: 1,
    submit(batch, inputs, report) {
      for (const { key, task } of batch) {
        let value: unknown;
        try {
          value = executeTask(task, inputs);
        } catch (error) {
          report({ key, ok: false, error });
          continue;
        }
        if (isThenable(value)) {
          value.then(
            (v) => report({ key, ok: true, value: v }),
            (error: unknown) => report({ key, ok: false, error }),
          );
        } else report({ key, ok: true, value });
      }
    },
    cancel() {
      // Nothing to stop: a sync task is either finished or an awaited promise we stop waiting for.
    },
  };
}
