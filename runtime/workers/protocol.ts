/**
 * Messages between the threads/processes executors and their workers. One batch is a list of
 * task chains (a chain of one task is the common case); a chain's links run one after another
 * in the worker, each reading the previous link's result.
 *
 * A worker reports outcomes as they come when it can (a port for threads, IPC for processes):
 * whenever a millisecond or more has passed since it last reported, it sends what finished, so a
 * slow task's result is not held until its batch ends. A batch that overruns its time budget
 * hands its unstarted chains back, so another worker can take them.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Path, WireClasses } from './wireValues.js';
import type { ProfileNode } from '../diagnostics/flame.js';

/** A function a worker imports: module URL + export name. */
export type FnRef = readonly [url: string, name: string];

/** Stands for a function inside a task sent to a worker: index into the batch's `fns`. */
export interface FnMarker {
  readonly __skeinFn: number;
}

/** Stands for a class instance inside a task: its class (index into `fns`) and its fields. */
export interface InstanceMarker {
  readonly __skeinNew: number;
  readonly fields: Record<string, unknown>;
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
  /**
   * Inputs to make whole again (wireValues.ts), by input position: where Buffers are (threads:
   * postMessage turns them into Uint8Arrays) and which class each class instance belongs to.
   */
  readonly special?: ReadonlyArray<readonly [input: number, buffers: readonly Path[] | undefined, classes: WireClasses | undefined]>;
  /**
   * Threads: positions of inputs lent to this worker (their memory moved, not copied: this link
   * is their last reader). A chain handed back unstarted gives them back (`WireResult.returned`).
   */
  readonly lent?: readonly number[];
}

export interface WireBatch {
  readonly fns: readonly FnRef[];
  /** Register Skein's module hooks (TypeScript, the `skein` alias) before importing anything. */
  readonly loader: boolean;
  /** Turn on source maps before importing (modules bundled with inline maps: code shipped to a worker). */
  readonly sourceMaps?: boolean;
  /** Modules to import before the first task (a warm-up batch has only these and no chains). */
  readonly preload?: readonly string[];
  /** Stream outcomes before the batch ends (a thread streams only where `port` is given). */
  readonly stream?: boolean;
  /** Tasks waiting on promises at once in one worker (`asyncTasksPerWorker`); 1 when absent. */
  readonly asyncTasks?: number;
  /** Send an empty partial when the batch starts, so a time limit counts from then (needs `stream`). */
  readonly announce?: boolean;
  /** Sample the thread's stacks every `intervalMs`, posting them on the BroadcastChannel `channel` (sampling.ts). */
  readonly profile?: { readonly channel: string; readonly intervalMs: number };
  /** Say when each task begins (`WirePartial.started`; needs `stream`): someone shows what runs. */
  readonly starts?: boolean;
  /** Hand unstarted chains back once the batch has run this long (only where outcomes stream). */
  readonly budgetMs?: number;
  /** Threads: where to stream outcomes before the batch ends (processes stream over IPC). */
  readonly port?: MessagePort;
  /** Measure result sizes (only while timings are recorded: serializing twice costs). */
  readonly measure: boolean;
  readonly chains: ReadonlyArray<readonly WireLink[]>;
  /** A result that is a function goes back as where to find it (`WireOutcome.fn`); without this, it is refused. */
  readonly functionsOut?: boolean;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, unknown>;
  /** What was thrown, when it was not an Error (a string, an object, undefined). */
  readonly thrown?: { readonly value: unknown };
  /** The error's `cause` (`new Error('Foo', { cause })`), in the same form: the whole chain travels. */
  readonly cause?: WireError;
  /** Its class, when a module exports it (module URL + export name): the receiver makes an instance of it. */
  readonly cls?: FnRef;
}

export type WireOutcome =
  | {
      readonly i: number;
      readonly ok: true;
      readonly value: unknown;
      readonly start: number;
      readonly end: number;
      readonly bytes?: number;
      readonly buffers?: readonly Path[];
      /** Class instances in the value, with their class, to give them their prototype back. */
      readonly classes?: WireClasses;
      /** For a task that returned a promise: ms until it returned it (the time it kept the worker busy). */
      readonly syncMs?: number;
      /** The next link of its chain reads this value in the worker: it must not move (threads copy it). */
      readonly held?: boolean;
      /** The value is a function, sent as where the receiver finds it (a module's export, its source, a built-in). */
      readonly fn?: FnRef;
    }
  | { readonly i: number; readonly ok: false; readonly error: WireError; readonly start: number; readonly end: number };

/** A thread's samples since its last post (sampling.ts), as a call tree. */
export interface ProfileSamples {
  readonly thread: string;
  readonly intervalMs: number;
  readonly root: ProfileNode;
}

/** Outcomes a worker streamed before its batch ended. */
export interface WirePartial {
  readonly worker: string;
  readonly outcomes: readonly WireOutcome[];
  /** With `starts`: tasks begun since the last message, as task number, clock time, number, time… */
  readonly started?: readonly number[];
  /** The worker's start-up (core/phases.ts): when its thread or process started, when it was first ready. */
  readonly startup?: readonly [number, number];
}

export interface WireResult {
  /** The outcomes not streamed before. */
  readonly outcomes: readonly WireOutcome[];
  /** How many partial messages were streamed before this result. */
  readonly streamed: number;
  /** Positions in `chains` of the chains handed back unstarted. */
  readonly skipped?: readonly number[];
  /** Inputs lent to the chains handed back, as they came (key, value): their memory goes back. */
  readonly returned?: ReadonlyArray<readonly [string, unknown]>;
  /** Thread id or process id of the worker. */
  readonly worker: string;
  /** As in WirePartial. */
  readonly startup?: readonly [number, number];
}
