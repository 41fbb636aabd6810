/**
 * The scheduler state: one record, changed only by named transitions, each synchronous (it
 * mutates the state and must run to completion):
 *
 *   waiting ──ready──▶ ready ──start──▶ running ──finish──▶ memory ──release──▶ released
 *      └──────────────start (a link of a fused chain)──▶│ ──fail──▶ erred
 *                      ready ◀──requeue── running (a gate cancelled before the task began)
 *                                          running ──begin──▶ running (a worker started it; logged only)
 *
 * `startTask`, `requeueTask`, `finishTask` (which makes dependents ready and releases what no
 * one needs), `failTask` and `releaseData`; `beginTask` changes no state: it logs when a worker
 * began a task handed over earlier (where `begins` is set: an executor that queues tasks ahead of
 * its workers, and a reader who asked), so "running" can mean running in a worker. When the state has a `log`, every transition is
 * appended to it (task, from, to, time): the one record of what happened, for whoever reads it.
 * `checkInvariants` verifies the whole record (the core calls it after each step when asked to
 * validate; tests do).
 *
 * Tasks are numbered as in the compiled graph (see graph/compile.ts), so every field is an array
 * indexed by task number; `describeState` gives the same record with keys, for tests, tools and
 * messages. Fields (Dask's names; counts where Dask keeps sets, to stay small for a million tasks):
 * - `status`: each task's state: waiting, ready, running, memory, released or erred.
 * - `cache`: results held in memory (literal values of the graph start there).
 * - `waiting`: per task, how many of its dependencies are not in memory yet.
 * - `waitingData`: per key in memory, how many of its dependents have not finished yet.
 * - `ready`: tasks whose dependencies are all in memory, a LIFO stack: the next task to run is
 *   the last element. Newly ready tasks are pushed highest priority last, so the walk stays
 *   depth-first and follows the static `order`.
 * - `running`: tasks handed to an executor and not back yet.
 * - `finished`: tasks that completed, in completion order.
 * - `released`: keys whose result was dropped because no dependent needs it any more, in order.
 */
import { Errors } from '../errors.js';
import type { CompiledGraph } from '../graph/compile.js';
import { type Key, describeValue } from '../graph/spec.js';
import { containsTask } from '../graph/walk.js';
import { type TaskStamps, type TaskTimings, type TransitionTimes, clock, createTimings } from './timings.js';
import { TASK_STATES, type TaskStateName } from './taskStates.js';

/** Task states as numbers (the status array), in the order of TASK_STATES (taskStates.ts). */
export const TaskStatus = { waiting: 0, ready: 1, running: 2, memory: 3, released: 4, erred: 5 } as const satisfies Record<TaskStateName, number>;
export type TaskStatusName = TaskStateName;
export const STATUS_NAMES: readonly TaskStatusName[] = TASK_STATES;

/** Transition names, by the status they lead to (`start` from waiting is a fused chain's link). */
export const TRANSITION_NAMES: Readonly<Record<TaskStatusName, string>> = { waiting: 'wait', ready: 'ready', running: 'start', memory: 'finish', released: 'release', erred: 'fail' };

/**
 * The log of transitions: parallel typed arrays (task, from, to, time), grown as needed. Readers
 * keep their own cursor and read the entries after it (`length` only grows).
 */
export class TransitionLog {
  task = new Int32Array(256);
  from = new Uint8Array(256);
  to = new Uint8Array(256);
  /** Clock time (timings.ts) of each transition. */
  time = new Float64Array(256);
  length = 0;

  push(t: number, from: number, to: number, time: number): void {
    const i = this.length;
    if (i === this.task.length) this.#grow();
    this.task[i] = t;
    this.from[i] = from;
    this.to[i] = to;
    this.time[i] = time;
    this.length = i + 1;
  }

  #grow(): void {
    const n = this.task.length * 2;
    const task = new Int32Array(n);
    task.set(this.task);
    const from = new Uint8Array(n);
    from.set(this.from);
    const to = new Uint8Array(n);
    to.set(this.to);
    const time = new Float64Array(n);
    time.set(this.time);
    Object.assign(this, { task, from, to, time });
  }

  /** Entries `start`.. as `[key, from, to]` (tests and tools; the arrays are the fast way). */
  entries(keys: readonly Key[], start = 0): Array<[Key, TaskStatusName, TaskStatusName]> {
    const out: Array<[Key, TaskStatusName, TaskStatusName]> = [];
    for (let i = start; i < this.length; i++) out.push([keys[this.task[i]!]!, STATUS_NAMES[this.from[i]!]!, STATUS_NAMES[this.to[i]!]!]);
    return out;
  }
}

/**
 * Where one reader of a transition log is: `read` hands over the entries since the last read.
 * Every consumer of the event stream (progress, the runner's live messages) keeps its own.
 */
export class LogCursor {
  #at = 0;

  /** Calls `entry(task, from, to, time)` for each transition since the last call; returns how many. */
  read(log: TransitionLog | undefined, entry: (t: number, from: number, to: number, time: number) => void): number {
    if (log === undefined) return 0;
    const start = this.#at;
    for (let i = start; i < log.length; i++) entry(log.task[i]!, log.from[i]!, log.to[i]!, log.time[i]!);
    this.#at = log.length;
    return log.length - start;
  }
}

/**
 * How many tasks are in each state, kept from the log: `update` reads the transitions since the
 * last call (the debugger's Graph scope reads it at every pause, with no scan of the state).
 */
export class StateCounts {
  /** Tasks per state, indexed by TaskStatus. */
  readonly counts: Int32Array;
  #cursor = new LogCursor();

  constructor(size: number) {
    this.counts = new Int32Array(STATUS_NAMES.length);
    this.counts[TaskStatus.waiting] = size;
  }

  /** Applies the transitions logged since the last call; returns the counts by state name. */
  update(log: TransitionLog | undefined): Record<TaskStatusName, number> {
    const { counts } = this;
    this.#cursor.read(log, (_t, from, to) => {
      counts[from]!--;
      counts[to]!++;
    });
    return Object.fromEntries(STATUS_NAMES.map((name, i) => [name, counts[i]!])) as Record<TaskStatusName, number>;
  }
}

export interface SchedulerState {
  readonly graph: CompiledGraph;
  /** Static priority per task (lower runs first), from `order`. */
  readonly priority: Int32Array;
  /** 1 for the keys the caller asked for: never released. */
  readonly isResult: Uint8Array;
  readonly status: Uint8Array;
  readonly cache: unknown[];
  readonly waiting: Int32Array;
  readonly waitingData: Int32Array;
  readonly ready: number[];
  readonly running: Set<number>;
  readonly finished: number[];
  readonly released: number[];
  /** Per-task timestamps, present when a callback asked for them (see timings.ts). */
  readonly timings: TaskTimings | undefined;
  /** Every transition in order, present when someone reads them (a callback, validation). */
  readonly log: TransitionLog | undefined;
  /**
   * The log says when a worker began each task (a `begin`: running → running); otherwise a task
   * counts as begun when it was handed over. Set by the core before the first task is handed over.
   */
  begins: boolean;
  /**
   * `ready` is a heap by priority and the next task is always the one `order` ranks first, as
   * Dask's test_complex_ordering requires of the synchronous scheduler (set by the core for
   * executors that run tasks in the calling thread: sync, the debugger); otherwise a stack.
   */
  readyByPriority: boolean;
}

/** Makes `state.ready` a heap by priority: from now on the task `order` ranks first is taken first. Mutates `state`. */
export function followOrder(state: SchedulerState): void {
  state.readyByPriority = true;
  const { ready, priority } = state;
  for (let i = (ready.length >> 1) - 1; i >= 0; i--) siftDown(ready, i, priority);
}

/** The next ready task to hand out, taken from `state.ready`. Mutates `state`. */
export function takeReady(state: SchedulerState): number {
  const { ready } = state;
  if (!state.readyByPriority) return ready.pop()!;
  const top = ready[0]!;
  const last = ready.pop()!;
  if (ready.length > 0) {
    ready[0] = last;
    siftDown(ready, 0, state.priority);
  }
  return top;
}

/** Adds task `t` to `state.ready`. Mutates `state`. */
function addReady(state: SchedulerState, t: number): void {
  const { ready, priority } = state;
  ready.push(t);
  if (!state.readyByPriority) return;
  for (let i = ready.length - 1; i > 0; ) {
    const parent = (i - 1) >> 1;
    if (priority[ready[parent]!]! <= priority[ready[i]!]!) break;
    [ready[parent], ready[i]] = [ready[i]!, ready[parent]!];
    i = parent;
  }
}

function siftDown(heap: number[], i: number, priority: Int32Array): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && priority[heap[l]!]! < priority[heap[m]!]!) m = l;
    if (r < heap.length && priority[heap[r]!]! < priority[heap[m]!]!) m = r;
    if (m === i) return;
    [heap[m], heap[i]] = [heap[i]!, heap[m]!];
    i = m;
  }
}

/** Appends a transition to the log, if there is one. */
function record(state: SchedulerState, t: number, from: number, to: number, now: number | undefined): void {
  state.log?.push(t, from, to, now ?? clock());
}

/** True when a graph value has to be evaluated: a task, a value holding one, or a value that mentions other keys. */
function needsRun(value: unknown, depCount: number): boolean {
  return depCount > 0 || containsTask(value);
}

/** Pushes `tasks` onto the ready stack so that the one with the lowest priority is popped first. */
function pushReady(ready: number[], tasks: number[], priority: Int32Array): void {
  if (tasks.length > 1) tasks.sort((a, b) => priority[b]! - priority[a]!);
  for (const t of tasks) ready.push(t);
}

/** Refuses values that look like tasks without a function: `[undefined, 'x']`, or a class. */
export function checkHead(key: Key, value: unknown, checked: Map<unknown, boolean>): void {
  if (!Array.isArray(value) || value.length === 0) return;
  const head: unknown = value[0];
  if (head === undefined || head === null) throw Errors.badHead(key, describeValue(head));
  if (typeof head !== 'function') return;
  let isClass = checked.get(head);
  if (isClass === undefined) {
    isClass = /^class[\s{]/.test(Function.prototype.toString.call(head));
    checked.set(head, isClass);
  }
  if (isClass) throw Errors.badHead(key, `class ${head.name} (a class cannot be called without new)`);
}

/**
 * Builds the starting state. Literal values (no task, no dependency) go straight to `cache`.
 *
 *     {x: 1, y: [inc, 'x'], z: [add, 'y', 10]}
 *     → cache {x: 1}, waiting {z: 1}, waitingData {x: 1, y: 1}, ready [y]
 */
export function startStateFromGraph(graph: CompiledGraph, priority: Int32Array, isResult: Uint8Array, measure = false, logged = false): SchedulerState {
  const { size: n, values, depStart, deps, dependentStart } = graph;
  const status = new Uint8Array(n);
  const cache = new Array<unknown>(n);
  const waiting = new Int32Array(n);
  const waitingData = new Int32Array(n);
  const ready: number[] = [];
  const checked = new Map<unknown, boolean>();
  for (let t = 0; t < n; t++) {
    const value = values[t];
    checkHead(graph.keys[t]!, value, checked);
    if (!needsRun(value, depStart[t + 1]! - depStart[t]!)) {
      cache[t] = value;
      status[t] = TaskStatus.memory;
    }
    waitingData[t] = dependentStart[t + 1]! - dependentStart[t]!;
  }
  for (let t = 0; t < n; t++) {
    if (status[t] === TaskStatus.memory) continue;
    let pending = 0;
    for (let e = depStart[t]!; e < depStart[t + 1]!; e++) if (status[deps[e]!] !== TaskStatus.memory) pending++;
    waiting[t] = pending;
    if (pending === 0) {
      status[t] = TaskStatus.ready;
      ready.push(t);
    }
  }
  pushReady([], ready, priority); // sorts in place
  const timings = measure ? createTimings(n) : undefined;
  // measured runs read their transition times from the log
  const log = logged || measure ? new TransitionLog() : undefined;
  if (log !== undefined) {
    // where every task starts from: literals in memory, tasks with nothing missing ready
    const now = clock();
    for (let t = 0; t < n; t++) if (status[t] === TaskStatus.memory) log.push(t, TaskStatus.waiting, TaskStatus.memory, now);
    for (let i = ready.length - 1; i >= 0; i--) log.push(ready[i]!, TaskStatus.waiting, TaskStatus.ready, now);
  }
  return { graph, priority, isResult, status, cache, waiting, waitingData, ready, running: new Set(), finished: [], released: [], timings, log, begins: false, readyByPriority: false };
}

/**
 * A worker began task `t`, handed over earlier: logged as running → running at `time` (the
 * worker's clock reading) when `begins` is set and the task is still running; no state changes.
 */
export function beginTask(state: SchedulerState, t: number, time: number): void {
  if (state.begins && state.status[t] === TaskStatus.running) state.log!.push(t, TaskStatus.running, TaskStatus.running, time);
}

/** Task `t` goes to its executor: ready → running, or waiting → running as a link of a fused chain. Mutates `state`. */
export function startTask(state: SchedulerState, t: number, now?: number): void {
  if (state.log !== undefined) record(state, t, state.status[t]!, TaskStatus.running, now);
  state.status[t] = TaskStatus.running;
  state.running.add(t);
}

/** Task `t` was cancelled before it began (a pretask gate opened after the run failed): back to ready. Mutates `state`. */
export function requeueTask(state: SchedulerState, t: number): void {
  if (state.log !== undefined) record(state, t, state.status[t]!, TaskStatus.ready, undefined);
  state.running.delete(t);
  state.status[t] = TaskStatus.ready;
  addReady(state, t);
}

/** Task `t` failed: running → erred. Mutates `state`. */
export function failTask(state: SchedulerState, t: number, now?: number): void {
  if (state.log !== undefined) record(state, t, state.status[t]!, TaskStatus.erred, now);
  state.running.delete(t);
  state.status[t] = TaskStatus.erred;
}

/**
 * Records that task `t` finished with `value`: dependents whose last dependency this was become
 * ready (unless an executor already runs them as part of a fused chain); dependencies no one else waits for are released unless they are requested results.
 * Mutates `state`; run atomically.
 */
export function finishTask(state: SchedulerState, t: number, value: unknown, now = state.timings === undefined ? 0 : clock()): void {
  const { graph, status, waiting, waitingData, isResult, timings, log } = state;
  if (log !== undefined) record(state, t, status[t]!, TaskStatus.memory, timings === undefined ? undefined : now);
  state.cache[t] = value;
  status[t] = TaskStatus.memory;
  state.running.delete(t);
  state.finished.push(t);
  const { dependentStart, dependents, depStart, deps } = graph;
  const dStart = dependentStart[t]!;
  const dEnd = dependentStart[t + 1]!;
  if (dEnd - dStart === 1) {
    const d = dependents[dStart]!;
    const w = waiting[d]! - 1;
    waiting[d] = w;
    if (w === 0 && status[d] === TaskStatus.waiting) {
      if (log !== undefined) record(state, d, TaskStatus.waiting, TaskStatus.ready, timings === undefined ? undefined : now);
      status[d] = TaskStatus.ready;
      addReady(state, d);
    }
  } else if (dEnd > dStart) {
    let newlyReady: number[] | undefined;
    for (let e = dStart; e < dEnd; e++) {
      const d = dependents[e]!;
      const w = waiting[d]! - 1;
      waiting[d] = w;
      if (w === 0 && status[d] === TaskStatus.waiting) {
        if (log !== undefined) record(state, d, TaskStatus.waiting, TaskStatus.ready, timings === undefined ? undefined : now);
        status[d] = TaskStatus.ready;
        (newlyReady ??= []).push(d);
      }
    }
    if (newlyReady !== undefined) {
      if (state.readyByPriority) for (const d of newlyReady) addReady(state, d);
      else pushReady(state.ready, newlyReady, state.priority);
    }
  }
  for (let e = depStart[t]!; e < depStart[t + 1]!; e++) {
    const d = deps[e]!;
    const w = waitingData[d]! - 1;
    waitingData[d] = w;
    if (w === 0 && isResult[d] === 0) releaseData(state, d, now);
  }
  if (dEnd === dStart && isResult[t] === 0) releaseData(state, t, now);
}

/** Drops task `t`'s result from memory. Mutates `state`; run atomically. */
export function releaseData(state: SchedulerState, t: number, now?: number): void {
  if (state.log !== undefined) record(state, t, state.status[t]!, TaskStatus.released, state.timings === undefined ? undefined : now);
  state.cache[t] = undefined;
  state.status[t] = TaskStatus.released;
  state.released.push(t);
}

/**
 * The transition times of a run, read from its log: when each task first became ready (for a
 * link of a fused chain, which goes from waiting straight to its worker: when it started there),
 * when its result came back from running, when it was released and when it failed.
 */
export function transitionTimes(state: SchedulerState): TransitionTimes {
  const n = state.graph.size;
  const stamps = (): Float64Array => new Float64Array(n).fill(Number.NaN);
  const times = { ready: stamps(), received: stamps(), released: stamps(), erred: stamps() };
  new LogCursor().read(state.log, (t, from, to, time) => {
    if (to === TaskStatus.ready) {
      if (Number.isNaN(times.ready[t]!)) times.ready[t] = time;
    } else if (to === TaskStatus.memory) {
      if (from === TaskStatus.running) times.received[t] = time;
    } else if (to === TaskStatus.released) times.released[t] = time;
    else if (to === TaskStatus.erred) times.erred[t] = time;
  });
  const started = state.timings?.started;
  if (started !== undefined) for (let t = 0; t < n; t++) if (Number.isNaN(times.ready[t]!) && !Number.isNaN(started[t]!)) times.ready[t] = started[t]!;
  return times;
}

/** The run's stamps (timings and transition times), when it was measured. */
export function taskStamps(state: SchedulerState): TaskStamps | undefined {
  return state.timings === undefined ? undefined : { ...state.timings, ...transitionTimes(state) };
}

/** The state with keys instead of task numbers (only non-zero counts, only held results). */
export interface StateView {
  cache: Record<Key, unknown>;
  waiting: Record<Key, number>;
  waitingData: Record<Key, number>;
  ready: Key[];
  running: Key[];
  finished: Key[];
  released: Key[];
}

export function describeState(state: SchedulerState): StateView {
  const { keys } = state.graph;
  const view: StateView = { cache: {}, waiting: {}, waitingData: {}, ready: [], running: [], finished: [], released: [] };
  for (let t = 0; t < state.graph.size; t++) {
    const key = keys[t]!;
    if (state.status[t] === TaskStatus.memory) {
      view.cache[key] = state.cache[t];
      if (state.waitingData[t]! > 0) view.waitingData[key] = state.waitingData[t]!;
    }
    if (state.waiting[t]! > 0) view.waiting[key] = state.waiting[t]!;
  }
  view.ready = state.ready.map((t) => keys[t]!);
  view.running = [...state.running].map((t) => keys[t]!);
  view.finished = state.finished.map((t) => keys[t]!);
  view.released = state.released.map((t) => keys[t]!);
  return view;
}

/**
 * Checks the whole state against its invariants; throws an INTERNAL error naming the first one
 * broken. O(tasks + edges): for tests and `validate`, not for production runs.
 */
export function checkInvariants(state: SchedulerState): void {
  const { graph, status, waiting, ready, running } = state;
  const broken = (what: string): never => {
    throw Errors.internal(`Scheduler state invariant broken: ${what}`);
  };
  const inReady = new Uint8Array(graph.size);
  for (const t of ready) {
    if (inReady[t] === 1) broken(`task ${JSON.stringify(graph.keys[t])} is on the ready stack twice`);
    inReady[t] = 1;
  }
  for (let t = 0; t < graph.size; t++) {
    const key = JSON.stringify(graph.keys[t]);
    const st = status[t]!;
    if ((st === TaskStatus.ready) !== (inReady[t] === 1)) broken(`task ${key} is ${STATUS_NAMES[st]} but ${inReady[t] === 1 ? 'on' : 'not on'} the ready stack`);
    if ((st === TaskStatus.running) !== running.has(t)) broken(`task ${key} is ${STATUS_NAMES[st]} but ${running.has(t) ? 'in' : 'not in'} the running set`);
    if (st === TaskStatus.released && state.cache[t] !== undefined) broken(`task ${key} is released but its result is still held`);
    if (st === TaskStatus.waiting || st === TaskStatus.ready) {
      let missing = 0;
      for (let e = graph.depStart[t]!; e < graph.depStart[t + 1]!; e++) if (status[graph.deps[e]!] !== TaskStatus.memory) missing++;
      if (missing !== waiting[t]) broken(`task ${key} waits for ${waiting[t]} dependencies but ${missing} are not in memory`);
      if ((missing === 0) !== (st === TaskStatus.ready)) broken(`task ${key} is ${STATUS_NAMES[st]} with ${missing} dependencies missing`);
    }
  }
}
