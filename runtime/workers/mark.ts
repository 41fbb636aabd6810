/**
 * The mark a Skein worker (thread or process) sets on its global object before it imports any
 * task module: `globalThis[Symbol.for('skein.worker')]` holds the worker's name.
 */
export const WORKER_MARK: unique symbol = Symbol.for('skein.worker') as never;

/** True inside a Skein worker: a compute there runs with `sync`, as in Dask. */
export function inSkeinWorker(): boolean {
  return (globalThis as Record<symbol, unknown>)[WORKER_MARK] !== undefined;
}
