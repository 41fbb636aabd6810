/**
 * The default pools: what `get` and `compute` run on when no `pool` is passed, as Dask's
 * threaded scheduler keeps one default pool for the life of the process.
 *
 * - The first threads (or processes) compute starts the pool; later computes with the same
 *   worker count reuse it, and concurrent computes share it (each keeps at most two batches per
 *   worker in flight, and the pool's queue is first come, first served).
 * - A different `numWorkers` retires the pool: it closes once the computes using it are done,
 *   and a new one of the new size serves from then on.
 * - Idle workers never keep the process alive (piscina unrefs idle threads; ProcessPool unrefs
 *   idle processes), so a script that awaits a few computes ends by itself. After
 *   `poolIdleTimeoutMs` without a compute, the pool is closed and its workers let go.
 * - `warmDefaultPool` starts it ahead of time and has every worker import modules early (the
 *   CLI does this while it loads the graph file, so the workers are ready when the run starts).
 */
import type { Piscina } from 'piscina';
import { createThreadPool } from './threads.js';
import { ProcessPool } from './processPool.js';
import type { WireResult } from '../workers/protocol.js';
import { warmupBatch } from '../workers/spawn.js';

export type PoolKind = 'threads' | 'processes';
type AnyPool = Piscina | ProcessPool;

interface Entry {
  readonly kind: PoolKind;
  readonly size: number;
  readonly pool: AnyPool;
  leases: number;
  retired: boolean;
  idle?: NodeJS.Timeout;
}

const entries = new Map<PoolKind, Entry>();

async function closePool(pool: AnyPool): Promise<void> {
  if (pool instanceof ProcessPool) return pool.close();
  // idle threads are unref'd: without a handle of its own, a program awaiting this at its top
  // level could end (exit code 13) before the threads have stopped and the promise settled
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await pool.destroy();
  } finally {
    clearInterval(keepAlive);
  }
}

function entryFor(kind: PoolKind, size: number): Entry {
  let entry = entries.get(kind);
  if (entry !== undefined && entry.size !== size) {
    retire(entry);
    entry = undefined;
  }
  if (entry === undefined) {
    entry = { kind, size, pool: kind === 'threads' ? createThreadPool(size) : new ProcessPool({ numWorkers: size }), leases: 0, retired: false };
    entries.set(kind, entry);
  }
  return entry;
}

function retire(entry: Entry): void {
  entry.retired = true;
  clearTimeout(entry.idle);
  if (entries.get(entry.kind) === entry) entries.delete(entry.kind);
  if (entry.leases === 0) void closePool(entry.pool);
}

/** A default pool to run one compute on; `release` when the compute settles. */
export interface PoolLease<P extends AnyPool> {
  readonly pool: P;
  release(): void;
}

export function leaseDefaultPool(kind: 'threads', size: number, idleTimeoutMs: number | null): PoolLease<Piscina>;
export function leaseDefaultPool(kind: 'processes', size: number, idleTimeoutMs: number | null): PoolLease<ProcessPool>;
export function leaseDefaultPool(kind: PoolKind, size: number, idleTimeoutMs: number | null): PoolLease<AnyPool> {
  const entry = entryFor(kind, size);
  clearTimeout(entry.idle);
  entry.idle = undefined;
  entry.leases++;
  let released = false;
  return {
    pool: entry.pool,
    release() {
      if (released) return;
      released = true;
      entry.leases--;
      if (entry.leases > 0) return;
      if (entry.retired) void closePool(entry.pool);
      else if (idleTimeoutMs !== null) entry.idle = setTimeout(() => retire(entry), idleTimeoutMs).unref();
    },
  };
}

/**
 * Starts the default pool of `kind` now, and has each worker import `modules` (and register
 * Skein's module hooks when `loader`), so the first compute finds them ready.
 */
export function warmDefaultPool(kind: PoolKind, size: number, modules: readonly string[], loader: boolean): void {
  const entry = entryFor(kind, size);
  const warmup = warmupBatch(modules, loader);
  const never = new AbortController().signal;
  for (let i = 0; i < size; i++) {
    // an idle pool hands one warm-up to each worker; a failed import is reported by the run itself
    const done: Promise<unknown> = entry.pool instanceof ProcessPool ? entry.pool.run(warmup, never) : (entry.pool.run(warmup) as Promise<WireResult>);
    done.catch(() => undefined);
  }
}

/** Closes the default pools now (their workers stop), e.g. before a long-running program idles. */
export async function closeDefaultPools(): Promise<void> {
  const all = [...entries.values()];
  entries.clear();
  for (const entry of all) clearTimeout(entry.idle);
  await Promise.all(all.map((entry) => closePool(entry.pool)));
}
