/**
 * The processes scheduler: the core with a batch executor on a pool of child processes. Each
 * worker has its own heap, so a crash, `process.exit()` or an out-of-memory task takes down one
 * replaceable worker and fails only its tasks, with the key named. Without a `pool` option,
 * computes run on the default process pool (defaultPools.ts), warm across computes.
 */
import { Errors } from '../errors.js';
import { type SkeinConfig, workerCount } from '../core/config.js';
import type { ExecutorLease } from './lease.js';
import { batchExecutor, batchOptions } from './batchExecutor.js';
import { ProcessPool, WorkerExit } from './processPool.js';
import { leaseDefaultPool } from './defaultPools.js';

export function processesLease(cfg: SkeinConfig): ExecutorLease {
  const lease = cfg.pool instanceof ProcessPool ? undefined : leaseDefaultPool('processes', workerCount(cfg), cfg.poolIdleTimeoutMs);
  const pool = lease?.pool ?? (cfg.pool as ProcessPool);
  const executor = batchExecutor(
    'processes',
    {
      numWorkers: pool.numWorkers,
      restoresBuffers: true,
      async dispatch(batch, signal, onPartial) {
        try {
          return await pool.run(batch, signal, onPartial);
        } catch (error) {
          if (error instanceof WorkerExit) throw Errors.workerDied(batch.chains[0]![0]!.key, error.how);
          if (!signal.aborted && error instanceof Error && /could not be cloned/.test(error.message)) {
            throw new TypeError(`inputs of task ${JSON.stringify(batch.chains[0]![0]!.key)} cannot be sent to a worker process: ${error.message}. Pass plain data between tasks, or run with --scheduler sync.`);
          }
          throw error;
        }
      },
    },
    batchOptions(cfg),
  );
  return { executor, release: async () => lease?.release() };
}
