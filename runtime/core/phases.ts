/**
 * The phases of a task, from its stamps (timings.ts), defined once for the core's profiler, the
 * report, the trace and the panel. No imports: the browser side uses this file as it is.
 *
 *   ready ──wait──▶ dispatched ──(worker start-up)──transfer──▶ started ──run──▶ finished ──result──▶ received
 *
 * A task handed to a worker that was still starting (its thread or process coming up, its first
 * modules loading) waits for that: the part of dispatched → started that falls inside the
 * worker's start-up is the worker's, not the task's transfer.
 */

/** A worker's start-up: from its thread or process starting to its first task functions loaded (clock ms). */
export type Startup = readonly [start: number, end: number];

/** Phases in ms; NaN where a stamp is missing. `startup` is 0 when the worker was up. */
export interface Phases {
  readonly wait: number;
  readonly startup: number;
  readonly transfer: number;
  readonly run: number;
  readonly result: number;
}

/** The phases of a task from its stamps (NaN or null: did not happen) and its worker's start-up. */
export function phasesOf(ready: number, dispatched: number, started: number, finished: number, received: number, startup: Startup | undefined): Phases {
  const handOver = started - dispatched;
  const inStartup = startup === undefined || !(handOver > 0) ? 0 : Math.max(0, Math.min(started, startup[1]) - Math.max(dispatched, startup[0]));
  return { wait: dispatched - ready, startup: inStartup, transfer: handOver - inStartup, run: finished - started, result: received - finished };
}
