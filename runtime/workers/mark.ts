/**
 * The mark a Skein worker (thread or process) sets on its global object before it imports any
 * task module: `globalThis[Symbol.for('skein.worker')]` holds the worker's name.
 */
export const WORKER_MARK: unique symbol = Symbol.for('skein.worker') as never;

/** True inside a Skein worker: a compute there runs with `sync`, as in Dask. */
export function inSkeinWorker(): boolean {
  return (globalThis as Record<symbol, unknown>)[WORKER_MARK] !== undefined;
}

/**
 * Set while a batch of the threads scheduler runs (`WireBatch.shared`): its results stay in this
 * process, so collections may allocate blocks in SharedArrayBuffers (array/ops.ts).
 */
export const SHARED_MEMORY: unique symbol = Symbol.for('skein.sharedMemory') as never;
