/**
 * The threads scheduler (the default): the core with a batch executor on a piscina pool of
 * worker threads. Tasks share the process, so a SharedArrayBuffer passed between tasks is the
 * same memory in every thread. A pool passed as `pool` (a Piscina instance the user created
 * with Skein's worker file, see `threadWorkerFile`) is used as is and never closed by Skein.
 */
import { Piscina } from 'piscina';
import { Errors } from '../errors.js';
import { type SkeinConfig, workerCount } from '../core/config.js';
import { runtimeFile } from '../loader/register.js';
import type { ExecutorLease } from '../schedule.js';
import type { WireBatch, WireResult } from '../workers/protocol.js';
import { batchExecutor } from './batchExecutor.js';

/** The worker file a user-created Piscina pool must load to serve Skein. */
export const threadWorkerFile = runtimeFile('threadWorker.js');

/** Creates a pool of Skein worker threads; pass it as `pool` to reuse it across computes. */
export function createThreadPool(numWorkers?: number): Piscina {
  const n = numWorkers ?? workerCount({ numWorkers: null } as SkeinConfig);
  // execArgv: [] keeps the parent's loader flags (tsx, --inspect) out of the workers: Skein's own
  // module hooks load TypeScript there, and a second loader would load modules twice.
  return new Piscina({ filename: threadWorkerFile, minThreads: n, maxThreads: n, idleTimeout: 30_000, concurrentTasksPerWorker: 1, execArgv: [] });
}

function describeDeath(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function threadsLease(cfg: SkeinConfig): ExecutorLease {
  const own = !(cfg.pool instanceof Piscina);
  const pool = own ? createThreadPool(workerCount(cfg)) : (cfg.pool as Piscina);
  const executor = batchExecutor(
    'threads',
    {
      numWorkers: pool.options.maxThreads,
      async dispatch(batch: WireBatch, signal: AbortSignal): Promise<WireResult> {
        try {
          return (await pool.run(batch, { signal })) as WireResult;
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof Error && error.name === 'DataCloneError') {
            throw new TypeError(`inputs of task ${JSON.stringify(batch.chains[0]![0]!.key)} cannot be sent to a worker thread: ${error.message}. Pass plain data between tasks, or run with --scheduler sync.`);
          }
          throw Errors.workerDied(batch.chains[0]![0]!.key, describeDeath(error));
        }
      },
    },
    { maxTasks: cfg['batching.maxTasks'], targetMs: cfg['batching.targetMs'], taskTimeoutMs: cfg.taskTimeoutMs },
  );
  return { executor, release: async () => (own ? pool.destroy() : undefined) };
}
