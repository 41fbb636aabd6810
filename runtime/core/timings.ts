/**
 * Per-task timestamps, measured (not guessed) when someone asks for them (a callback with
 * `timings: true`: the profiler, the recorder, the panel, the debugger).
 *
 * All stamps are on one clock shared by every thread and process of the machine:
 * `performance.timeOrigin + performance.now()`, in milliseconds since the epoch with
 * sub-millisecond precision. NaN means "did not happen". Phases of a task:
 *
 *   ready ──wait──▶ dispatched ──transfer──▶ started ──run──▶ finished ──result──▶ received
 *
 * (the part of dispatched → started spent waiting for the worker to start is the worker's
 * start-up, not transfer: phases.ts)
 *
 * `ready` and `received` are state transitions, so they come from the core's transition log
 * (state.ts `transitionTimes`), as do `released` and `erred`; this record holds what the log
 * cannot know. `dispatched` is when the core handed the task's batch to the executor, so a task
 * waiting inside a batch for the tasks before it counts that time as transfer, not run.
 * `started` and `finished` are stamped by the worker around the user's function. Overhead is
 * everything but `run`.
 */

import { performance as perf } from 'node:perf_hooks';
import { type Phases, type Startup, phasesOf } from './phases.js';

// `performance.timeOrigin` is a getter and the global `performance` a lazy one: reading them
// on every stamp doubled the cost of a stamp, so both are read once per thread.
const ORIGIN = perf.timeOrigin;

/** The shared clock: ms since the epoch, sub-ms precision, comparable across threads and processes. */
export function clock(): number {
  return ORIGIN + perf.now();
}

/** What the core measures besides state transitions (see the file's header). */
export interface TaskTimings {
  readonly dispatched: Float64Array;
  readonly started: Float64Array;
  readonly finished: Float64Array;
  /** Index into `workers`, -1 for tasks the core evaluated itself (aliases). */
  readonly worker: Int32Array;
  /** Bytes of the serialized result where the scheduler serialized it, else NaN. */
  readonly resultBytes: Float64Array;
  /**
   * ms the task kept its thread busy: its whole run for a function that returns a value, until
   * it returned its promise for one that waits (I/O, timers). run − busy is time spent waiting.
   */
  readonly busy: Float64Array;
  /** Worker names ("main", "thread-3", "process-1234"), in order of first use. */
  readonly workers: string[];
  readonly workerIndex: Map<string, number>;
  /** Each worker's start-up, by worker index, where the worker said (see phases.ts). */
  readonly startup: Array<Startup | undefined>;
}

export function createTimings(n: number): TaskTimings {
  const stamps = (): Float64Array => new Float64Array(n).fill(Number.NaN);
  return {
    dispatched: stamps(),
    started: stamps(),
    finished: stamps(),
    worker: new Int32Array(n).fill(-1),
    resultBytes: stamps(),
    busy: stamps(),
    workers: [],
    workerIndex: new Map(),
    startup: [],
  };
}

/** Index of a worker name, adding it on first use. */
export function workerId(timings: TaskTimings, name: string): number {
  let id = timings.workerIndex.get(name);
  if (id === undefined) {
    id = timings.workers.length;
    timings.workers.push(name);
    timings.workerIndex.set(name, id);
  }
  return id;
}

/** Notes worker `name`'s start-up (the first time it is told). */
export function noteStartup(timings: TaskTimings, name: string, startup: Startup): void {
  const id = workerId(timings, name);
  timings.startup[id] ??= startup;
}

/** When each task became ready, came back, was released and failed, from the transition log (NaN: never). */
export interface TransitionTimes {
  readonly ready: Float64Array;
  readonly received: Float64Array;
  readonly released: Float64Array;
  readonly erred: Float64Array;
}

/** Every stamp of a run: the core's measurements and the log's transition times. */
export type TaskStamps = TaskTimings & TransitionTimes;

/** The phases of one task in ms (NaN where a stamp is missing; see phases.ts). */
export function phases(timings: TaskStamps, t: number): Phases {
  const w = timings.worker[t]!;
  return phasesOf(timings.ready[t]!, timings.dispatched[t]!, timings.started[t]!, timings.finished[t]!, timings.received[t]!, w >= 0 ? timings.startup[w] : undefined);
}
