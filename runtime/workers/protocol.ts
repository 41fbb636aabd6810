/**
 * Messages between the threads/processes executors and their workers. One batch is a list of
 * task chains (a chain of one task is the common case); a chain's links run one after another
 * in the worker, each reading the previous link's result.
 */

/** A function a worker imports: module URL + export name. */
export type FnRef = readonly [url: string, name: string];

/** Stands for a function inside a task sent to a worker: index into the batch's `fns`. */
export interface FnMarker {
  readonly __skeinFn: number;
}

export interface WireLink {
  /** Task number in the compiled graph. */
  readonly i: number;
  readonly key: string;
  /** The task with functions replaced by FnMarker objects. */
  readonly task: unknown;
  /** Results this link reads, by key (the previous link's result is added in the worker). */
  readonly inputs: ReadonlyArray<readonly [string, unknown]>;
  /** Send the result back (false for a chain link only the next link reads). */
  readonly keep: boolean;
}

export interface WireBatch {
  readonly fns: readonly FnRef[];
  /** Measure result sizes (only while timings are recorded: serializing twice costs). */
  readonly measure: boolean;
  readonly chains: ReadonlyArray<readonly WireLink[]>;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, unknown>;
}

export type WireOutcome =
  | { readonly i: number; readonly ok: true; readonly value: unknown; readonly start: number; readonly end: number; readonly bytes?: number }
  | { readonly i: number; readonly ok: false; readonly error: WireError; readonly start: number; readonly end: number };

export interface WireResult {
  readonly outcomes: readonly WireOutcome[];
  /** Thread id or process id of the worker. */
  readonly worker: string;
}
