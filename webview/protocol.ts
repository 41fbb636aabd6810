/**
 * The graph panel's message contract, shared by the extension (host) and the webview app.
 * Type-only: one tagged union per direction, handled exhaustively on each side.
 */
import type { RunRecord } from '../runtime/diagnostics/recordSchema.js';
import type { ProfileNode } from '../runtime/diagnostics/flame.js';

/** Host → webview. */
export type ToWebview =
  /** A whole run (recorded, finished, or a graph that has not run: every task waiting). */
  | { readonly kind: 'record'; readonly record: RunRecord; readonly title: string }
  /**
   * During a live run: the tasks whose state changed, each one's new state as one character
   * (`states[i]` for `tasks[i]`; STATE_CODES in runtime/core/taskStates.ts).
   */
  | { readonly kind: 'transitions'; readonly tasks: readonly number[]; readonly states: string; readonly done: number; readonly total: number }
  /**
   * Dashboard: tasks that ran since the last message, as bars of the task stream: task, start and
   * end (ms, the record's clock), lane (index into `lanes`, every worker thread seen so far).
   */
  | {
      readonly kind: 'stream';
      readonly bars: ReadonlyArray<readonly [task: number, start: number, end: number, lane: number]>;
      readonly lanes: readonly string[];
      /** Every bar since the graph was sent (the page just opened its task stream): they replace the ones it has. */
      readonly replace?: boolean;
    }
  /**
   * The live run shown ended with no recording to show (stopped, or its runner died): nothing
   * runs any more, so tasks not finished go back to waiting; `title` says how it ended.
   */
  | { readonly kind: 'ended'; readonly title: string }
  /** The host runs task actions (VS Code): the details pane offers them. */
  | { readonly kind: 'actions' }
  /** A debug session paused at a task's error: the task's details say it (until the task runs again). */
  | { readonly kind: 'taskError'; readonly key: string; readonly message: string }
  /** The debugger's function breakpoints (keys, key groups, globs): the tasks they match get a red dot. */
  | { readonly kind: 'breakpoints'; readonly names: readonly string[] }
  /** A debug session paused at `key`: select it, bring it into view, show its details. */
  | { readonly kind: 'focus'; readonly key: string }
  /** The messages that follow come from a live cluster (the dashboard inside VS Code), or no longer: its tabs shown or not. */
  | { readonly kind: 'live'; readonly on: boolean }
  /** Dashboard: the cluster's workers and the scheduler's own load, once a second. */
  /** The workers now (`scheduler`: the scheduler's own load; absent in a performance report). */
  | { readonly kind: 'workers'; readonly workers: readonly DashboardWorker[]; readonly scheduler?: SchedulerSample }
  /**
   * Dashboard: the workers' sampled profile since the cluster started, as one call tree (null:
   * profiling is on and nothing was sampled yet); sent only by clusters started with profiling.
   */
  | { readonly kind: 'profile'; readonly intervalMs: number; readonly root: ProfileNode | null }
  /** Dashboard: the tasks that raised (not those that failed with them), when one more fails. */
  | { readonly kind: 'failed'; readonly tasks: readonly DashboardFailed[] };

/** A worker as the dashboard shows it. */
export interface DashboardWorker {
  readonly address: string;
  readonly name: string;
  readonly pid: number;
  readonly nthreads: number;
  /** Resident memory of its process (bytes), from its last heartbeat. */
  readonly memory: number;
  readonly memoryLimit: number | null;
  /** Of its memory, results it holds (managed); bytes of results it spilled to disk; over its pause threshold. */
  readonly managed: number;
  readonly spilled: number;
  readonly paused: boolean;
  /** Its process's CPU over the last second (1 = one core busy). */
  readonly cpu: number;
  /** Tasks the scheduler gave it that are not finished. */
  readonly processing: number;
  /** Its threads running a task at its last heartbeat. */
  readonly executing: number;
  /** Results it holds. */
  readonly keys: number;
  readonly lastSeenMs: number;
  /** Bytes it fetched from each other worker (by name) since it joined. */
  readonly received: Readonly<Record<string, number>>;
  /** Its memory at each heartbeat of a time span: [time, memory, managed, spilled] (a performance report's; live pages keep their own). */
  readonly history?: ReadonlyArray<readonly [number, number, number, number]>;
}

/** The scheduler's process over the last second. */
export interface SchedulerSample {
  /** ms since the epoch. */
  readonly time: number;
  /** CPU time over wall time (1 = one core busy). */
  readonly cpu: number;
  /** Resident memory (bytes). */
  readonly memory: number;
  /** The event loop's delay, 99th percentile (ms): how late the scheduler answers. */
  readonly loopDelayMs: number;
}

/** A task that raised, as the dashboard lists it. */
export interface DashboardFailed {
  readonly key: string;
  readonly error: string;
  readonly worker: string | null;
  readonly stack: string | null;
}

/** Webview → host. */
export type FromWebview =
  | { readonly kind: 'ready' }
  /** A task's action from its details: a breakpoint on its key, or a debug session of it alone. */
  | { readonly kind: 'taskAction'; readonly action: 'toggleBreakpoint' | 'debugTask'; readonly key: string; readonly graphFile: string | null }
  /** Open the source of a task's function. */
  /** Show a task in the editor: where its key is defined in the graph file, else its function (file, line). */
  | { readonly kind: 'reveal'; readonly key: string; readonly graphFile: string | null; readonly file: string | null; readonly line: number }
  /** After each render (tests read it): what is on screen. */
  | { readonly kind: 'rendered'; readonly view: string; readonly title: string; readonly nodes: number; readonly tasks: number; readonly states: Readonly<Record<string, number>>; readonly selected: string | null; readonly bars: number; readonly breakpoints: number; readonly error: string | null };


/**
 * Dashboard page → its scheduler, over the WebSocket: the tab it shows. The task stream's bars
 * go only to pages showing it (a page that never says gets everything: the VS Code relay).
 */
export type PageToScheduler = { readonly kind: 'view'; readonly view: string };
