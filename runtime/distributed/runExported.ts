/**
 * `client.run` and `client.runOnScheduler`: an exported function called by module URL and export
 * name in a worker's or the scheduler's process, its result (or error) sent back as it is.
 */
import { isDelayedFunction } from '../graph/delayed.js';
import { SOURCE_URL, functionFromSource } from '../loader/lambda.js';
import { registerLoader, runtimeFile, workersNeedLoader } from '../loader/register.js';
import { toWireError } from '../workers/runBatch.js';
import type { FnRef } from '../workers/protocol.js';
import type { RunOutcome } from './protocol.js';

/**
 * Calls `fn(...args)`. `ownProcess`: this is a worker's or scheduler's own process, which gets
 * Skein's loader for TypeScript modules as task threads do; in the user's process (an in-process
 * worker, a LocalCluster's scheduler) modules load as the user's own do.
 */
export async function runExported(ref: FnRef, args: readonly unknown[], ownProcess: boolean): Promise<RunOutcome> {
  try {
    const fn = await importExported(ref, ownProcess);
    if (typeof fn !== 'function') throw new TypeError(`${ref[0]} has no exported function ${JSON.stringify(ref[1])}`);
    return { ok: true, value: await (fn as (...a: unknown[]) => unknown)(...args) };
  } catch (error) {
    return { ok: false, error: toWireError(error) };
  }
}

/**
 * What module `url` exports as `name` (a delayed function's own function); `ownProcess`: see
 * runExported. `skein:distributed` (plugins.ts ownClass) is this process's own Skein.
 */
export async function importExported([url, name]: FnRef, ownProcess: boolean): Promise<unknown> {
  // a lambda that closes over nothing travels by its source, as in submit
  if (url === SOURCE_URL) return functionFromSource(name);
  if (url.startsWith('skein:')) return ((await import(runtimeFile(`${url.slice('skein:'.length)}.js`))) as Record<string, unknown>)[name];
  if (ownProcess && workersNeedLoader([url])) registerLoader();
  const ns = (await import(url)) as Record<string, unknown>;
  const value = ns[name];
  return isDelayedFunction(value) ? value.fn : value;
}
