/**
 * The threads scheduler (the default): the core with a batch executor on a piscina pool of
 * worker threads. Tasks share the process, so a SharedArrayBuffer passed between tasks is the
 * same memory in every thread. Without a `pool` option, computes run on the default thread pool
 * (defaultPools.ts), warm across computes. A pool passed as `pool` (a Piscina instance the user
 * created with Skein's worker file, see `threadWorkerFile`) is used as is and never closed by
 * Skein.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Errors } from '../errors.js';
import { type SkeinConfig, workerCount } from '../core/config.js';
import { runtimeFile } from '../loader/register.js';
import type { ExecutorLease } from './lease.js';
import type { WireBatch, WirePartial, WireResult } from '../workers/protocol.js';
import { batchExecutor, batchOptions } from './batchExecutor.js';
import { leaseDefaultPool } from './defaultPools.js';

/** The worker file a user-created Piscina pool must load to serve Skein. */
export const threadWorkerFile = runtimeFile('threadWorker.js');

/** Creates a pool of Skein worker threads; pass it as `pool` to reuse it across computes. */
export function createThreadPool(numWorkers?: number): Piscina {
  const n = numWorkers ?? workerCount({ numWorkers: null } as SkeinConfig);
  // execArgv: [] keeps the parent's loader flags (tsx, --inspect) out of the workers: Skein's own
  // module hooks load TypeScript there, and a second loader would load modules twice.
  const pool = new Piscina({ filename: threadWorkerFile, minThreads: n, maxThreads: n, idleTimeout: 30_000, concurrentTasksPerWorker: 1, execArgv: [] });
  pool.on('error', (error: Error) => {
    // A batch aborted while its worker was already answering: piscina has forgotten the batch
    // and reports the late answer here. Nothing is lost (the run is over). Anything else is a
    // worker failing outside any task (an error thrown from a timer after its task returned).
    if (error.message.startsWith('Unexpected message from Worker')) return;
    process.emitWarning(`a Skein worker thread failed outside any task: ${error.message}`, { code: 'SKEIN_WORKER_ERROR' });
  });
  return pool;
}

function describeDeath(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a batch; with `onPartial`, over a port of its own on which the worker streams outcomes. */
export async function runOn(pool: Piscina, batch: WireBatch, signal: AbortSignal, onPartial?: (partial: WirePartial) => void): Promise<WireResult> {
  if (onPartial === undefined) return (await pool.run(batch, { signal })) as WireResult;
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
    const result = (await pool.run({ ...batch, port: port2 }, { signal, transferList: [port2] })) as WireResult;
    // the result and the streamed outcomes travel on different ports: wait for the stragglers
    expected = result.streamed;
    if (received < expected) await done;
    return result;
  } finally {
    port1.close();
  }
}

export function threadsLease(cfg: SkeinConfig): ExecutorLease {
  const lease = cfg.pool instanceof Piscina ? undefined : leaseDefaultPool('threads', workerCount(cfg), cfg.poolIdleTimeoutMs);
  const pool = lease?.pool ?? (cfg.pool as Piscina);
  const executor = batchExecutor(
    'threads',
    {
      numWorkers: pool.options.maxThreads,
      async dispatch(batch, signal, onPartial) {
        try {
          return await runOn(pool, batch, signal, onPartial);
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof Error && error.name === 'DataCloneError') {
            throw new TypeError(`inputs of task ${JSON.stringify(batch.chains[0]![0]!.key)} cannot be sent to a worker thread: ${error.message}. Pass plain data between tasks, or run with --scheduler sync.`);
          }
          throw Errors.workerDied(batch.chains[0]![0]!.key, describeDeath(error));
        }
      },
    },
    batchOptions(cfg),
  );
  return { executor, release: async () => lease?.release() };
}
