/**
 * The threads scheduler (the default): the core with a batch executor on a piscina pool of
 * worker threads. Tasks share the process, so a SharedArrayBuffer passed between tasks is the
 * same memory in every thread. Without a `pool` option, computes run on the default thread pool
 * (defaultPools.ts), warm across computes. A pool passed as `pool` (a Piscina instance the user
 * created with Skein's worker file, see `threadWorkerFile`) is used as is and never closed by
 * Skein.
 */
import { Piscina } from 'piscina';
import { Errors } from '../errors.js';
import { type SkeinConfig, workerCount } from '../core/config.js';
import type { ExecutorLease } from './lease.js';
import { batchExecutor, batchOptions } from './batchExecutor.js';
import { leaseDefaultPool } from './defaultPools.js';
import { runOn } from './threadPool.js';

function describeDeath(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { createThreadPool, runOn, threadWorkerFile } from './threadPool.js';

export function threadsLease(cfg: SkeinConfig): ExecutorLease {
  const lease = cfg.pool instanceof Piscina ? undefined : leaseDefaultPool('threads', workerCount(cfg), cfg.poolIdleTimeoutMs);
  const pool = lease?.pool ?? (cfg.pool as Piscina);
  const executor = batchExecutor(
    'threads',
    {
      numWorkers: pool.options.maxThreads,
      moves: true,
      async dispatch(batch, signal, onPartial, transfer) {
        try {
          return await runOn(pool, batch, signal, onPartial, transfer);
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
