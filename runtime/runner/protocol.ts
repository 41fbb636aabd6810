/**
 * Messages between the VS Code extension and a runner process (one per run or debug session),
 * over Node IPC: the one contract for both. Type-only: the extension and the runner both import
 * it. Each direction is one tagged union, handled exhaustively on the receiving side. The
 * debugger's own vocabulary (breakpoints, frames, variables, its requests) is in
 * debug/protocol.ts; its messages travel in these unions.
 */
import type { DebugEvent, DebugLaunch, DebugRequest } from '../debug/protocol.js';

/** Extension → runner: the first message says what the process is for; a debug session then sends requests. */
export type ToRunner = RunRequest | DebugLaunch | DebugRequest;

/** Run a graph file (the first and only message of a run). */
export type RunRequest = {
  readonly kind: 'run';
  /** Absolute path of the graph file. */
  readonly file: string;
  readonly scheduler?: string;
  readonly numWorkers?: number | null;
  /** Keys to compute; default: the graph's outputs. */
  readonly keys?: readonly string[];
  /** Where to write the recorded run (skein-run JSON). */
  readonly recordFile?: string;
  /** Stream the graph and every task's state while it runs (for the graph panel). */
  readonly live?: boolean;
};

import type { RunRecord } from '../diagnostics/recordSchema.js';

/** A stack frame that points at a file, for clickable links and diagnostics. */
export interface SourceFrame {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Runner → extension. */
export type FromRunner = RunMessage | DebugMessage;

/** What a debug session's runner sends: answers to requests, and events. */
export type DebugMessage =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly body: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly message: string }
  | ({ readonly kind: 'debugEvent' } & DebugEvent);

/** What a run's runner sends. */
export type RunMessage =
  /** A distributed run: where its cluster's dashboard is, while the run lasts. */
  | { readonly kind: 'dashboard'; readonly link: string }
  | { readonly kind: 'started'; readonly file: string; readonly scheduler: string; readonly numWorkers: number; readonly tasks: number; readonly keys: readonly string[]; readonly pid: number }
  | { readonly kind: 'progress'; readonly done: number; readonly total: number }
  /** With `live`: the graph's structure (a record of a graph that has not run), once. */
  | { readonly kind: 'graph'; readonly record: RunRecord }
  /**
   * With `live`: the tasks whose state changed since the last message, and each one's new state
   * (`states[i]` for `tasks[i]`, one character, STATE_CODES in core/taskStates.ts), read from the
   * core's transition log at most ten times a second.
   */
  | { readonly kind: 'transitions'; readonly tasks: readonly number[]; readonly states: string; readonly done: number; readonly total: number }
  /** A debug session paused at a task's error: the panel's details of that task say it. */
  | { readonly kind: 'taskError'; readonly key: string; readonly message: string }
  /** A debug session: the task that just ran, as a bar of the task stream (ms from the graph message's startedAt), on its one lane. */
  | { readonly kind: 'stream'; readonly bars: ReadonlyArray<readonly [task: number, start: number, end: number, lane: number]>; readonly lanes: readonly string[] }
  | { readonly kind: 'result'; readonly key: string; readonly text: string; readonly bytes: number | null }
  | { readonly kind: 'finished'; readonly tasks: number; readonly elapsedMs: number; readonly scheduler: string; readonly numWorkers: number; readonly recordFile: string | null }
  | {
      readonly kind: 'failed';
      readonly code: string;
      readonly key: string | null;
      readonly message: string;
      /** The user-code stack (Skein's own frames removed), or null. */
      readonly stack: string | null;
      /** Frames of `stack` that name a file, innermost first. */
      readonly frames: readonly SourceFrame[];
      readonly recordFile: string | null;
    };
