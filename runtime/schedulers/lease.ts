/**
 * What a scheduler gives a run: an executor, and a way to release it when the run settles. The
 * scheduler modules make leases; the registry (registry.ts) maps scheduler names to them.
 */
import type { SkeinConfig } from '../core/config.js';
import type { Executor } from '../core/local.js';

/** An executor with a way to release it once the run settles. */
export interface ExecutorLease {
  readonly executor: Executor;
  release(): Promise<void>;
}

export type ExecutorFactory = (cfg: SkeinConfig) => ExecutorLease | Promise<ExecutorLease>;
