/**
 * `Profiler`: per-task records of a run (Dask's Profiler), with the phases measured by the core
 * and the transition times of its log.
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
  #state: SchedulerState | undefined;

  startState(_dsk: unknown, state: SchedulerState): void {
    this.#state = state;
  }

  /** One record per task that ran in the last run, in the order they finished. */
  results(): TaskProfile[] {
    const state = this.#state;
    const timings = state === undefined ? undefined : taskStamps(state);
    if (state === undefined || timings === undefined) return [];
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
}
