/**
 * A piscina pool of Skein worker threads, and how a batch runs on it: what the threads scheduler
 * and the distributed workers share. Kept to what it needs to import, so a distributed worker
 * process starts quickly.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { runtimeFile } from '../loader/register.js';
import type { WireBatch, WirePartial, WireResult } from '../workers/protocol.js';

/** The worker file a user-created Piscina pool must load to serve Skein. */
export const threadWorkerFile = runtimeFile('threadWorker.js');

/**
 * Creates a pool of Skein worker threads; pass it as `pool` to reuse it across computes.
 * `eventLoop`: an idle thread keeps its event loop turning (piscina's async atomics) instead of
 * blocking until its next task, so its timers fire (a sampling profiler posts its samples).
 */
export function createThreadPool(numWorkers?: number, eventLoop = false): Piscina {
  const n = numWorkers ?? availableParallelism();
  // execArgv: [] keeps the parent's loader flags (tsx, --inspect) out of the workers: Skein's own
  // module hooks load TypeScript there, and a second loader would load modules twice.
  const pool = new Piscina({ filename: threadWorkerFile, minThreads: n, maxThreads: n, idleTimeout: 30_000, concurrentTasksPerWorker: 1, execArgv: [], atomics: eventLoop ? 'async' : 'sync' });
  pool.on('error', (error: Error) => {
    // A batch aborted while its worker was already answering: piscina has forgotten the batch
    // and reports the late answer here. Nothing is lost (the run is over). Anything else is a
    // worker failing outside any task (an error thrown from a timer after its task returned).
    if (error.message.startsWith('Unexpected message from Worker')) return;
    process.emitWarning(`a Skein worker thread failed outside any task: ${error.message}`, { code: 'SKEIN_WORKER_ERROR' });
  });
  return pool;
}

/**
 * Runs a batch; with `onPartial`, over a port of its own on which the worker streams outcomes.
 * `transfer`: buffers of the batch's inputs that move to the worker instead of being copied.
 */
export async function runOn(pool: Piscina, batch: WireBatch, signal: AbortSignal, onPartial?: (partial: WirePartial) => void, transfer: readonly ArrayBuffer[] = []): Promise<WireResult> {
  if (onPartial === undefined) return (await pool.run(batch, { signal, transferList: transfer.length > 0 ? [...transfer] : undefined })) as WireResult;
  const { port1, port2 } = new MessageChannel();
  let received = 0;
  let expected = -1;
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  port1.on('message', (partial: WirePartial) => {
    received++;
    onPartial(partial);
    if (received === expected) allReceived();
  });
  try {
    const result = (await pool.run({ ...batch, port: port2 }, { signal, transferList: [port2, ...transfer] })) as WireResult;
    // the result and the streamed outcomes travel on different ports: wait for the stragglers
    expected = result.streamed;
    if (received < expected) await done;
    return result;
  } finally {
    port1.close();
  }
}
