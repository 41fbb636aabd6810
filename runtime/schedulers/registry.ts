/**
 * The local schedulers by name: each gives an executor lease for a run's configuration. `get`
 * and `compute` (schedule.ts) look schedulers up here and know none of them by module.
 */
import type { SchedulerName } from '../core/config.js';
import type { ExecutorFactory } from './lease.js';
import { processesLease } from './processes.js';
import { syncExecutor } from './sync.js';
import { threadsLease } from './threads.js';

/** The schedulers that run the local core with an executor (distributed runs on a client instead). */
export type LocalSchedulerName = Exclude<SchedulerName, 'distributed'>;

export const SCHEDULER_FACTORIES: Readonly<Record<LocalSchedulerName, ExecutorFactory>> = {
  sync: (cfg) => ({ executor: syncExecutor(cfg.taskTimeoutMs), release: async () => {} }),
  threads: threadsLease,
  processes: processesLease,
};
