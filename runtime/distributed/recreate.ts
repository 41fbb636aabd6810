/**
 * `recreateErrorLocally`: the failed task runs again in the calling thread, its inputs fetched
 * from the cluster, so the error is thrown here, where a debugger (VS Code's JavaScript debugger,
 * `--inspect`) stops in the task's own code.
 */
import { executeTask, isThenable, mapInputs } from '../core/execute.js';
import { SkeinError } from '../errors.js';
import { decodeTask } from '../workers/wireTasks.js';
import { type Client, importRef } from './client.js';
import type { TaskSpec } from './protocol.js';

export async function recreateLocally(client: Client, spec: TaskSpec): Promise<never> {
  const inputs = await client.fetchInputs(spec.deps);
  const fns = await Promise.all(spec.fns.map(importRef));
  let value = executeTask(decodeTask(spec.task, fns), mapInputs(inputs));
  if (isThenable(value)) value = await value;
  throw new SkeinError('NOT_RECREATED', `Task ${JSON.stringify(spec.key)} ran here without an error (it failed on the cluster): the failure depends on where it ran (memory, files, timing, the worker's environment).`);
}
