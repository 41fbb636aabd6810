/**
 * What the threads and processes schedulers share: an Executor that sends ready tasks to
 * workers in batches. It locates every task function before the first task starts, encodes
 * tasks once, splits what the core hands over into batches sized so that both workers stay
 * busy (and so that a batch of slow tasks is not stuck behind one worker), sends each link's
 * inputs along, and turns worker outcomes back into core outcomes. The transport (piscina, a
 * child-process pool) is a `dispatch` function.
 */
import { setMaxListeners } from 'node:events';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors } from '../errors.js';
import type { Executor, TaskOutcome, TaskRun } from '../core/local.js';
import { type SchedulerState, TaskStatus, beginTask } from '../core/state.js';
import { noteStartup } from '../core/timings.js';
import type { SkeinConfig } from '../core/config.js';
import { taskFunction } from '../graph/spec.js';
import { ownerOf } from '../graph/compile.js';
import { NOT_CYCLIC, containsTask } from '../graph/walk.js';
import { describeFunction, exportedValue, locateFunction } from '../loader/locate.js';
import { GLOBAL_URL, SOURCE_URL, builtInFunction, functionFromSource } from '../loader/lambda.js';
import type { FnRef, WireBatch, WireError, WireLink, WireOutcome, WirePartial, WireResult } from '../workers/protocol.js';
import { workersNeedLoader } from '../loader/register.js';
import { type Path, type WireClasses, restoreValue, scanResult } from '../workers/wireValues.js';
import { encodeTask, functionsIn } from '../workers/wireTasks.js';
import { allBuffers, movableBuffers } from '../workers/movable.js';
import { RunQueue } from './runQueue.js';

export interface Dispatcher {
  /**
   * Sends one batch to some worker; rejects when the worker dies or the signal aborts. When
   * `onPartial` is given, outcomes the worker streams before the batch ends go there, and the
   * promise settles only after every streamed outcome was delivered.
   */
  dispatch(batch: WireBatch, signal: AbortSignal, onPartial?: (partial: WirePartial) => void, transfer?: readonly ArrayBuffer[]): Promise<WireResult>;
  readonly numWorkers: number;
  /** The transport moves the buffers passed as `transfer` instead of copying them (threads). */
  readonly moves?: boolean;
  /** The transport keeps Buffers as Buffers (child processes' advanced serialization does; postMessage does not). */
  readonly restoresBuffers?: boolean;
}

export interface BatchOptions {
  readonly maxTasks: number;
  readonly targetMs: number;
  readonly taskTimeoutMs: number | null;
  /** Tasks that may wait on promises at once in one worker. */
  readonly asyncTasksPerWorker: number;
  /** A failed task runs again in the scheduler's thread with its inputs: none may move away. */
  readonly rerunLocally: boolean;
}

/** The batching options of a run's configuration. */
export function batchOptions(cfg: SkeinConfig): BatchOptions {
  return { maxTasks: cfg['batching.maxTasks'], targetMs: cfg['batching.targetMs'], taskTimeoutMs: cfg.taskTimeoutMs, asyncTasksPerWorker: cfg.asyncTasksPerWorker, rerunLocally: cfg.rerunExceptionsLocally };
}

/** What the runs of one task function took, in ms (exponentially weighted means of the last runs). */
interface Duration {
  /** From call to result. */
  wall: number;
  /** How long it kept its worker busy: until it returned its promise, for one that waits. */
  busy: number;
  /** It returned a promise last time. */
  waits: boolean;
}

/**
 * Durations per task function, shared by every run in this process, as Dask keeps durations per
 * task prefix.
 */
const durations = new WeakMap<Function, Duration>();

/** Weight of the newest run in a duration estimate. */
const DURATION_WEIGHT = 0.25;

/** A batch whose estimate reaches this long streams its outcomes, and may hand work back. */
const STREAM_MIN_MS = 1;

/** Batches in flight per worker: one running, one waiting in the pool's queue. */
const IN_FLIGHT_PER_WORKER = 2;

/** The class exported as `name` by the module at `url` (already loaded here: a result came from it). */
async function importClass([url, name]: FnRef): Promise<Function> {
  const cls = ((await import(url)) as Record<string, unknown>)[name];
  if (typeof cls !== 'function') throw new TypeError(`${url} has no exported class ${JSON.stringify(name)}`);
  return cls;
}

/** A module URL as a person reads it: a path relative to the working directory where it is below it. */
function displayPath(url: string): string {
  if (!url.startsWith('file:')) return url;
  const path = fileURLToPath(url);
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/**
 * How long a run (its whole chain) keeps a worker busy, in ms, or undefined when some function
 * has never run. A task that waits on a promise costs its busy time where waits overlap
 * (`overlap`: tasks that may wait at once in a worker), its whole time where they cannot.
 */
function estimateOf(run: TaskRun, overlap: boolean): { ms: number; waits: boolean } | undefined {
  let ms = 0;
  let waits = false;
  for (const link of [run, ...(run.continuation ?? [])]) {
    const fn = taskFunction(link.task);
    const d = fn === undefined ? undefined : durations.get(fn);
    if (d === undefined) return undefined;
    ms += d.waits && overlap ? d.busy : d.wall;
    waits ||= d.waits;
  }
  return { ms, waits };
}

const ERROR_TYPES: Record<string, new (message: string) => Error> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Rebuilds an error sent by a worker: same type where it is a built-in one, same stack and fields. */
/** A function sent back as where to find it (a task's result): by its source, a built-in, or a module loaded here. */
function functionFromRef([url, name]: FnRef): Function | undefined {
  if (url === SOURCE_URL) return functionFromSource(name);
  if (url === GLOBAL_URL) return builtInFunction(name);
  const value = exportedValue(url, name);
  return typeof value === 'function' ? value : undefined;
}

export function fromWireError(w: WireError): unknown {
  if (w.thrown !== undefined) return w.thrown.value;
  // an error of a class a module exports is an instance of it here too (`instanceof MyError`), its fields kept
  const cls = w.cls === undefined ? undefined : exportedValue(w.cls[0], w.cls[1]);
  if (typeof cls === 'function' && cls.prototype instanceof Error) {
    const error = Object.create(cls.prototype as object) as Error;
    Object.defineProperty(error, 'message', { value: w.message, configurable: true, writable: true, enumerable: false });
    if (error.name !== w.name) Object.defineProperty(error, 'name', { value: w.name, configurable: true, writable: true });
    if (w.stack !== undefined) Object.defineProperty(error, 'stack', { value: w.stack, configurable: true, writable: true, enumerable: false });
    Object.assign(error, w.props);
    if (w.cause !== undefined) Object.defineProperty(error, 'cause', { value: fromWireError(w.cause), configurable: true, writable: true, enumerable: false });
    return error;
  }
  const Ctor = ERROR_TYPES[w.name] ?? Error;
  const error = new Ctor(w.message);
  if (error.name !== w.name) Object.defineProperty(error, 'name', { value: w.name, configurable: true, writable: true });
  if (w.stack !== undefined) error.stack = w.stack;
  Object.assign(error, w.props);
  if (w.cause !== undefined) Object.defineProperty(error, 'cause', { value: fromWireError(w.cause), configurable: true, writable: true, enumerable: false });
  return error;
}

/**
 * The executor. Runs the core hands over wait in `pending` (best priority first); at most
 * two batches per worker are in flight, each filled to about `targetMs` of estimated work and to
 * a fair share (per worker) of what is pending. Estimates count the time a task keeps its worker
 * busy: for a task that returns a promise, until it returns it, so tasks waiting on I/O share a
 * batch and wait together. Batches estimated at a millisecond or more, or holding a function
 * never measured, stream their outcomes as they finish and hand unstarted chains back when they
 * overrun.
 *
 * Where the transport moves memory (threads), an input on its last use is lent: its large
 * buffers move to the worker instead of being copied (movable.ts). Only a result that came from
 * a worker and shares no buffer with another value is lent, never one the caller asked for, one
 * a posttask callback saw, or one a failed task may be re-run with here; and only when every
 * task that reads it runs in a worker (an alias evaluated here would share its memory). A chain
 * handed back unstarted gives its lent inputs back.
 */
export function batchExecutor(name: string, dispatcher: Dispatcher, options: BatchOptions): Executor {
  const fnIndex = new Map<Function, number>();
  const fnRefs: FnRef[] = [];
  const encoded: unknown[] = [];
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per batch in flight is expected
  const maxInFlight = IN_FLIGHT_PER_WORKER * dispatcher.numWorkers;
  const pending = new RunQueue();
  let inFlight = 0;
  let stopped = false;
  let loader = false;
  let reported = new Uint8Array(0);
  const lends = dispatcher.moves === true && !options.rerunLocally;
  /** Per task: 1 when its result may be lent (came from a worker, shares no buffer). */
  let lendable = new Uint8Array(0);
  /** Per task: 1 when only tasks run by workers read its result, 2 when not, 0 not looked at yet. */
  let readers = new Uint8Array(0);
  let state: SchedulerState | undefined;
  let report: Parameters<Executor['submit']>[2] = () => undefined;

  /** Classes met in results, by class, with where workers import them from. */
  const classRefs = new Map<Function, FnRef>();
  /** The classes of results, by module URL + export name, imported here once. */
  const classByRef = new Map<string, Function>();

  /** Where a worker imports `cls` from, if known (a class in the graph, or one a result had). */
  const refOfClass = (cls: Function): FnRef | undefined => {
    const i = fnIndex.get(cls);
    return i !== undefined ? fnRefs[i] : classRefs.get(cls);
  };

  /** True when every task that reads `d` runs in a worker (none is evaluated in this thread). */
  const readByWorkersOnly = (st: SchedulerState, d: number): boolean => {
    if (readers[d] === 0) {
      const { dependentStart, dependents, values } = st.graph;
      let workers = true;
      for (let e = dependentStart[d]!; e < dependentStart[d + 1]! && workers; e++) workers = containsTask(values[dependents[e]!]);
      readers[d] = workers ? 1 : 2;
    }
    return readers[d] === 1;
  };

  /**
   * The results of one message from a worker that a later lend may move: structured clone keeps
   * shared references within a message, so a result sharing a buffer with another (or arriving
   * beside one not looked into whole) is never lent.
   */
  const noteLendable = (outcomes: readonly WireOutcome[]): void => {
    if (!lends || stopped) return;
    const holding: Array<{ readonly i: number; readonly buffers: Set<ArrayBuffer>; readonly complete: boolean }> = [];
    let incomplete = 0;
    let buffers = new Set<ArrayBuffer>();
    for (const o of outcomes) {
      if (!o.ok || o.value === null || typeof o.value !== 'object') continue;
      const complete = allBuffers(o.value, buffers);
      if (!complete) incomplete++;
      if (buffers.size > 0) {
        holding.push({ i: o.i, buffers, complete });
        buffers = new Set<ArrayBuffer>();
      }
    }
    if (holding.length === 0) return;
    const holders = new Map<ArrayBuffer, number>();
    if (holding.length > 1) for (const h of holding) for (const b of h.buffers) holders.set(b, (holders.get(b) ?? 0) + 1);
    for (const h of holding) {
      // another value of the message not looked into whole may hold the same memory
      if (incomplete > (h.complete ? 0 : 1)) continue;
      let alone = true;
      if (holding.length > 1) for (const b of h.buffers) if (holders.get(b)! > 1) alone = false;
      if (alone) lendable[h.i] = 1;
    }
  };

  /**
   * Task `run`'s link: its inputs (all but the previous link's), encoded. Inputs it lends add
   * their buffers to `transfer`.
   */
  const toLink = (run: TaskRun, st: SchedulerState, previous: number, keep: boolean, transfer: Set<ArrayBuffer> | undefined): WireLink => {
    const { graph, cache } = st;
    const inputs: Array<readonly [string, unknown]> = [];
    let special: Array<readonly [number, Path[] | undefined, WireClasses | undefined]> | undefined;
    let lent: number[] | undefined;
    for (let e = graph.depStart[run.index]!; e < graph.depStart[run.index + 1]!; e++) {
      const d = graph.deps[e]!;
      if (d === previous) continue;
      const value = cache[d];
      if (value !== null && typeof value === 'object') {
        const found = scanResult(value, dispatcher.restoresBuffers !== true);
        if (found !== undefined) {
          const classes = found.instances?.map(([path, cls]): readonly [Path, FnRef] => {
            const ref = refOfClass(cls);
            if (ref === undefined) throw Errors.classNotExported(run.key, cls.name || '(anonymous class)');
            return [path, ref];
          });
          (special ??= []).push([inputs.length, found.buffers, classes]);
        }
        // this link reads it last: its memory moves (a class instance's would come back without its class)
        if (transfer !== undefined && lendable[d] === 1 && st.waitingData[d] === 1 && st.isResult[d] === 0 && found?.instances === undefined && readByWorkersOnly(st, d)) {
          const before = transfer.size;
          movableBuffers(value, transfer);
          if (transfer.size > before) {
            lendable[d] = 0;
            (lent ??= []).push(inputs.length);
          }
        }
      }
      inputs.push([graph.keys[d]!, value]);
    }
    let task = encoded[run.index];
    if (task === undefined) task = encoded[run.index] = encodeTask(run.task, fnIndex, NOT_CYCLIC);
    return { i: run.index, key: run.key, task, inputs, keep, special, lent };
  };

  /** Hands one outcome to the core, once, learning how long its function takes. */
  const deliver = (o: WireOutcome, worker: string): void => {
    if (stopped || reported[o.i] === 1) return;
    reported[o.i] = 1;
    const fn = taskFunction(state!.graph.values[o.i]);
    if (fn !== undefined && o.ok) {
      const wall = o.end - o.start;
      const busy = o.syncMs ?? wall;
      const d = durations.get(fn);
      if (d === undefined) durations.set(fn, { wall, busy, waits: o.syncMs !== undefined });
      else {
        d.wall += (wall - d.wall) * DURATION_WEIGHT;
        d.busy += (busy - d.busy) * DURATION_WEIGHT;
        d.waits = o.syncMs !== undefined;
      }
    }
    if (!o.ok) report({ index: o.i, ok: false, error: fromWireError(o.error), worker, start: o.start, end: o.end });
    else if (o.classes === undefined || o.classes.every(([, ref]) => classByRef.has(`${ref[0]}#${ref[1]}`))) report(restored(o, worker));
    else {
      // the classes of its class instances, imported here once (they are loaded already: import is quick)
      void Promise.all(o.classes.map(async ([, ref]) => classByRef.set(`${ref[0]}#${ref[1]}`, await importClass(ref)))).then(
        () => {
          if (!stopped) report(restored(o, worker));
        },
        (error: unknown) => {
          if (!stopped) report({ index: o.i, ok: false, error, worker, start: o.start, end: o.end });
        },
      );
    }
  };

  /** A successful outcome for the core, its value made whole (Buffers, class instances). */
  const restored = (o: WireOutcome & { ok: true }, worker: string): TaskOutcome => {
    let value = o.value;
    if (o.fn !== undefined) {
      const fn = functionFromRef(o.fn);
      if (fn === undefined) return { index: o.i, ok: false, error: new TypeError(`The result is the function ${o.fn[1]}, exported by ${o.fn[0]}, a module this process has not loaded: import it here too, or return data.`), worker, start: o.start, end: o.end };
      return { index: o.i, ok: true, value: fn, worker, start: o.start, end: o.end, bytes: o.bytes, busy: o.syncMs };
    }
    if (o.buffers !== undefined || o.classes !== undefined) {
      value = restoreValue(value, o.buffers, o.classes, (ref) => {
        const cls = classByRef.get(`${ref[0]}#${ref[1]}`)!;
        classRefs.set(cls, ref);
        return cls;
      });
    }
    return { index: o.i, ok: true, value, worker, start: o.start, end: o.end, bytes: o.bytes, busy: o.syncMs };
  };

  /** Sends batches while there is room in flight and work pending. */
  const pump = (): void => {
    const st = state!;
    // a fair share per worker of what is pending now: tasks that take no time (or only wait on
    // promises) are not split further
    const fair = Math.ceil(pending.size / dispatcher.numWorkers);
    const overlap = options.asyncTasksPerWorker > 1;
    while (!stopped && inFlight < maxInFlight && pending.size > 0) {
      const take: TaskRun[] = [];
      let ms = 0;
      let links = 0;
      let waiting = 0;
      let unknown = false;
      while (pending.size > 0) {
        const run = pending.peek()!;
        const estimate = estimateOf(run, overlap);
        const size = 1 + (run.continuation?.length ?? 0);
        const waits = estimate?.waits === true && overlap;
        if (take.length > 0 && (ms + (estimate?.ms ?? 0) > options.targetMs || take.length >= fair || links + size > options.maxTasks || (waits && waiting >= options.asyncTasksPerWorker))) break;
        take.push(run);
        pending.pop();
        // never measured: counted as free, but the batch streams and hands back what it has not
        // started once a task overruns, so a slow first call holds nothing back for long
        if (estimate === undefined) unknown = true;
        else ms += estimate.ms;
        if (waits) waiting++;
        links += size;
        if (options.taskTimeoutMs !== null) break; // one task per batch: a timeout names exactly one task
      }
      send(take, st, unknown || ms >= STREAM_MIN_MS ? Math.max(2 * ms, options.targetMs) : undefined);
    }
  };

  return {
    name,
    capacity: options.taskTimeoutMs === null ? dispatcher.numWorkers * options.maxTasks : dispatcher.numWorkers,
    fuseChains: options.taskTimeoutMs === null,
    queuesAhead: true,

    async prepare(st) {
      const { graph } = st;
      state = st;
      reported = new Uint8Array(graph.size);
      pending.reset(st.priority);
      if (lends) {
        lendable = new Uint8Array(graph.size);
        readers = new Uint8Array(graph.size);
      }
      const seen = new Set<Function>();
      for (let t = 0; t < graph.size; t++) {
        for (const fn of functionsIn(graph.values[t], () => ownerOf(graph.keys[t]!, graph.values[t]))) {
          if (seen.has(fn)) continue;
          seen.add(fn);
          const ref = await locateFunction(fn);
          if (ref === undefined) throw Errors.unlocatable(graph.keys[t]!, describeFunction(fn), name);
          if ('captures' in ref) throw Errors.capturesLocals(graph.keys[t]!, describeFunction(fn), ref.captures, name);
          if ('evaluating' in ref) throw Errors.moduleStillEvaluating(graph.keys[t]!, describeFunction(fn), displayPath(ref.evaluating), name);
          fnIndex.set(fn, fnRefs.length);
          fnRefs.push([ref.url, ref.name]);
        }
      }
      loader = workersNeedLoader(fnRefs.map(([url]) => url));
    },

    submit(batch, st, onOutcome) {
      state = st;
      report = onOutcome;
      for (const run of batch) pending.push(run);
      pump();
    },

    cancel(how) {
      stopped = true;
      pending.clear();
      // after a task failed, batches still running finish on their own (their results are
      // dropped): stopping a worker mid-task costs a new worker; cancelling the run stops them
      if (how === 'aborted') controller.abort(Errors.stopped());
    },
  } satisfies Executor & { fuseChains: boolean };

  /**
   * Lent inputs of chains handed back unstarted, back in `state.cache` where the lend left their
   * detached husks: the same values, made whole as before they left (Buffers restored).
   */
  function giveBack(st: SchedulerState, chains: readonly WireLink[][], skipped: readonly number[], returned: NonNullable<WireResult['returned']>): void {
    let r = 0;
    for (const c of skipped) {
      for (const link of chains[c]!) {
        for (const at of link.lent ?? []) {
          const value = returned[r++]![1];
          const d = st.graph.index.get(link.inputs[at]![0])!;
          if (st.status[d] !== TaskStatus.memory) continue;
          const buffers = link.special?.find(([input]) => input === at)?.[1];
          st.cache[d] = buffers === undefined ? value : restoreValue(value, buffers, undefined);
          // a task of the batch that ran may have returned the same input, in the same message:
          // the two would share memory here, so it is copied from now on
          lendable[d] = 0;
        }
      }
    }
  }

  /** Sends `runs` as one batch; `budgetMs` set: stream outcomes and hand work back past it. */
  function send(runs: readonly TaskRun[], st: SchedulerState, budgetMs: number | undefined): void {
    const chains: WireLink[][] = [];
    const sent: TaskRun[] = [];
    // what a posttask callback saw may still be held by it: it is not lent
    const transfer = lends && runs[0]?.keep !== true ? new Set<ArrayBuffer>() : undefined;
    for (const run of runs) {
      const all = [run, ...(run.continuation ?? [])];
      const links: WireLink[] = [];
      try {
        for (let j = 0; j < all.length; j++) {
          const link = all[j]!;
          links.push(toLink(link, st, j === 0 ? -1 : all[j - 1]!.index, j === all.length - 1 || link.keep === true || st.isResult[link.index] === 1, transfer));
        }
        chains.push(links);
        sent.push(run);
      } catch (error) {
        // an input that cannot be sent fails its task, and its chain does not start (not the batch)
        const failed = all[links.length]!;
        for (const link of all) {
          reported[link.index] = 1;
          report({ index: link.index, ok: false, error: link === failed ? error : new Error(`not run: task ${JSON.stringify(failed.key)} in the same chain cannot start`) });
        }
      }
    }
    if (chains.length === 0) return;
    runs = sent;
    const timeout = options.taskTimeoutMs;
    // a time limit counts from when the task starts in its worker (it announces it), not from
    // when it was queued: a task waiting for a replacement worker must not time out
    // someone shows what runs (the graph panel): the workers say when each task begins
    const starts = st.begins;
    const stream = budgetMs !== undefined || timeout !== null || starts;
    const wire: WireBatch = {
      fns: fnRefs,
      loader,
      measure: st.timings !== undefined,
      chains,
      functionsOut: true,
      stream,
      announce: timeout !== null,
      starts,
      budgetMs: runs.length > 1 ? budgetMs : undefined,
      asyncTasks: timeout === null ? options.asyncTasksPerWorker : 1,
    };
    const limit = timeout === null ? undefined : new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const signal = limit === undefined ? controller.signal : AbortSignal.any([controller.signal, limit.signal]);
    const onPartial = (partial: WirePartial): void => {
      if (limit !== undefined && timer === undefined) timer = setTimeout(() => limit.abort(), timeout!);
      if (partial.startup !== undefined && st.timings !== undefined) noteStartup(st.timings, partial.worker, partial.startup);
      const started = partial.started;
      if (started !== undefined && !stopped) for (let k = 0; k < started.length; k += 2) beginTask(st, started[k]!, started[k + 1]!);
      noteLendable(partial.outcomes);
      for (const o of partial.outcomes) deliver(o, partial.worker);
    };
    inFlight++;
    dispatcher
      .dispatch(wire, signal, stream ? onPartial : undefined, transfer === undefined || transfer.size === 0 ? undefined : [...transfer])
      .then(
        (result) => {
          if (result.startup !== undefined && st.timings !== undefined) noteStartup(st.timings, result.worker, result.startup);
          noteLendable(result.outcomes);
          for (const o of result.outcomes) deliver(o, result.worker);
          if (result.returned !== undefined) giveBack(st, chains, result.skipped!, result.returned);
          if (result.skipped !== undefined && !stopped) {
            // handed back unstarted: queued again by priority (ahead of most: they were taken first)
            for (const c of result.skipped) pending.push(runs[c]!);
          }
        },
        (error: unknown) => {
          if (controller.signal.aborted) return; // cancelled on purpose: the core is no longer waiting
          const timedOut = limit !== undefined && limit.signal.aborted;
          for (const run of runs) {
            for (const link of [run, ...(run.continuation ?? [])]) {
              if (stopped || reported[link.index] === 1) continue;
              reported[link.index] = 1;
              report({ index: link.index, ok: false, error: timedOut ? Errors.taskTimeout(link.key, timeout!) : error });
            }
          }
        },
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight--;
        pump();
      });
  }
}
