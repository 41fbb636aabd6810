/**
 * `Profiler`: per-task records of the runs it watched (Dask's Profiler), with the phases measured
 * by the core and the transition times of its log. Records add up over runs until `clear()`, as
 * Dask's do; a run's records are made when it finishes, so the profiler never keeps a run's
 * results alive.
 */
import type { Callback } from '../core/callbacks.js';
import { type SchedulerState, taskStamps } from '../core/state.js';
import { phases } from '../core/timings.js';
import { keyGroup } from '../graph/spec.js';

export interface TaskProfile {
  readonly key: string;
  readonly group: string;
  readonly worker: string | null;
  readonly ready: number;
  readonly dispatched: number;
  readonly started: number;
  readonly finished: number;
  readonly received: number;
  /**
   * ms: ready → dispatched, dispatched → started (the part spent waiting for its worker to start
   * is `startup`, the rest `transfer`), started → finished, finished → received.
   */
  readonly wait: number;
  readonly startup: number;
  readonly transfer: number;
  readonly run: number;
  readonly result: number;
}

export class Profiler implements Callback {
  readonly timings = true;
  /** Runs in progress. */
  readonly #running = new Set<SchedulerState>();
  /** Records of the runs that finished since the last clear(). */
  #records: TaskProfile[] = [];

  startState(_dsk: unknown, state: SchedulerState): void {
    this.#running.add(state);
  }

  finish(_dsk: unknown, state: SchedulerState): void {
    if (!this.#running.delete(state)) return;
    this.#records.push(...records(state));
  }

  /** One record per task that ran, run after run (in the order they finished), until `clear()`. */
  results(): TaskProfile[] {
    return [...this.#records, ...[...this.#running].flatMap(records)];
  }

  /** Forgets the records so far. */
  clear(): void {
    this.#records = [];
  }
}

/** One record per task of a run that ran, in the order they finished. */
function records(state: SchedulerState): TaskProfile[] {
  const timings = taskStamps(state);
  if (timings === undefined) return [];
  const { graph } = state;
  return state.finished.map((t) => {
    const w = timings.worker[t]!;
    return {
      key: graph.keys[t]!,
      group: keyGroup(graph.keys[t]!),
      worker: w >= 0 ? timings.workers[w]! : null,
      ready: timings.ready[t]!,
      dispatched: timings.dispatched[t]!,
      started: timings.started[t]!,
      finished: timings.finished[t]!,
      received: timings.received[t]!,
      ...phases(timings, t),
    };
  });
}
