/**
 * What the threads and processes schedulers share: an Executor that sends ready tasks to
 * workers in batches. It locates every task function before the first task starts, encodes
 * tasks once, splits what the core hands over into batches sized so that both workers stay
 * busy (and so that a batch of slow tasks is not stuck behind one worker), sends each link's
 * inputs along, and turns worker outcomes back into core outcomes. The transport (piscina, a
 * child-process pool) is a `dispatch` function.
 */
import { setMaxListeners } from 'node:events';
import { Errors, SkeinError } from '../errors.js';
import type { Executor, TaskRun } from '../core/local.js';
import type { SchedulerState } from '../core/state.js';
import { isPlainObject } from '../graph/spec.js';
import { describeFunction, locateFunction } from '../loader/locate.js';
import type { FnRef, WireBatch, WireError, WireLink, WireResult } from '../workers/protocol.js';

export interface Dispatcher {
  /** Sends one batch to some worker; rejects when the worker dies or the signal aborts. */
  dispatch(batch: WireBatch, signal: AbortSignal): Promise<WireResult>;
  readonly numWorkers: number;
}

export interface BatchOptions {
  readonly maxTasks: number;
  readonly targetMs: number;
  readonly taskTimeoutMs: number | null;
}

const ERROR_TYPES: Record<string, new (message: string) => Error> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Rebuilds an error sent by a worker: same type where it is a built-in one, same stack and fields. */
export function fromWireError(w: WireError): Error {
  const Ctor = ERROR_TYPES[w.name] ?? Error;
  const error = new Ctor(w.message);
  if (error.name !== w.name) Object.defineProperty(error, 'name', { value: w.name, configurable: true, writable: true });
  if (w.stack !== undefined) error.stack = w.stack;
  Object.assign(error, w.props);
  return error;
}

/** Every function inside a graph value (task heads, nested tasks, function arguments). */
function functionsIn(value: unknown, out: Function[]): void {
  if (typeof value === 'function') out.push(value);
  else if (Array.isArray(value)) for (const v of value) functionsIn(v, out);
  else if (isPlainObject(value)) for (const k in value) functionsIn(value[k], out);
}

export function batchExecutor(name: string, dispatcher: Dispatcher, options: BatchOptions): Executor {
  const fnIndex = new Map<Function, number>();
  const fnRefs: FnRef[] = [];
  const encoded: unknown[] = [];
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per batch in flight is expected
  let avgRunMs = 0;
  let samples = 0;

  const encode = (value: unknown): unknown => {
    if (typeof value === 'function') return { __skeinFn: fnIndex.get(value)! };
    if (Array.isArray(value)) return value.map(encode);
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const k in value) out[k] = encode(value[k]);
      return out;
    }
    return value;
  };

  const toLink = (run: TaskRun, state: SchedulerState, previous: number, keep: boolean): WireLink => {
    const { graph, cache } = state;
    const inputs: Array<readonly [string, unknown]> = [];
    for (let e = graph.depStart[run.index]!; e < graph.depStart[run.index + 1]!; e++) {
      const d = graph.deps[e]!;
      if (d !== previous) inputs.push([graph.keys[d]!, cache[d]]);
    }
    let task = encoded[run.index];
    if (task === undefined) task = encoded[run.index] = encode(run.task);
    return { i: run.index, key: run.key, task, inputs, keep };
  };

  return {
    name,
    capacity: options.taskTimeoutMs === null ? dispatcher.numWorkers * options.maxTasks : dispatcher.numWorkers,
    fuseChains: options.taskTimeoutMs === null,

    async prepare(state) {
      const { graph } = state;
      const seen = new Set<Function>();
      for (let t = 0; t < graph.size; t++) {
        const fns: Function[] = [];
        functionsIn(graph.values[t], fns);
        for (const fn of fns) {
          if (seen.has(fn)) continue;
          seen.add(fn);
          const ref = await locateFunction(fn);
          if (ref === undefined) throw Errors.unlocatable(graph.keys[t]!, describeFunction(fn), name);
          fnIndex.set(fn, fnRefs.length);
          fnRefs.push([ref.url, ref.name]);
        }
      }
    },

    submit(batch, state, report) {
      const wantedPerBatch = Math.ceil(batch.length / (2 * dispatcher.numWorkers));
      const bySpeed = samples > 0 && avgRunMs > 0 ? Math.max(1, Math.floor(options.targetMs / avgRunMs)) : options.maxTasks;
      const size = options.taskTimeoutMs === null ? Math.max(1, Math.min(options.maxTasks, wantedPerBatch, bySpeed)) : 1;
      for (let start = 0; start < batch.length; start += size) {
        const runs = batch.slice(start, start + size);
        const chains = runs.map((run) => {
          const all = [run, ...(run.continuation ?? [])];
          return all.map((link, j) => toLink(link, state, j === 0 ? -1 : all[j - 1]!.index, j === all.length - 1 || link.keep === true || state.isResult[link.index] === 1));
        });
        send({ fns: fnRefs, measure: state.timings !== undefined, chains }, runs, report);
      }
    },

    cancel() {
      controller.abort(new SkeinError('CANCELLED', 'run stopped'));
    },
  } satisfies Executor & { fuseChains: boolean };

  function send(wire: WireBatch, runs: readonly TaskRun[], report: Parameters<Executor['submit']>[2]): void {
    const timeout = options.taskTimeoutMs;
    const signal = timeout === null ? controller.signal : AbortSignal.any([controller.signal, AbortSignal.timeout(timeout)]);
    dispatcher.dispatch(wire, signal).then(
      (result) => {
        for (const o of result.outcomes) {
          const ms = o.end - o.start;
          samples++;
          avgRunMs += (ms - avgRunMs) / Math.min(samples, 50);
          if (o.ok) report({ index: o.i, ok: true, value: o.value, worker: result.worker, start: o.start, end: o.end, bytes: o.bytes });
          else report({ index: o.i, ok: false, error: fromWireError(o.error), worker: result.worker, start: o.start, end: o.end });
        }
      },
      (error: unknown) => {
        if (controller.signal.aborted) return; // cancelled on purpose: the core is no longer waiting
        const first = runs[0]!;
        const timedOut = timeout !== null && signal.aborted && !controller.signal.aborted;
        const reason = timedOut ? Errors.taskTimeout(first.key, timeout) : error;
        for (const run of runs) for (const link of [run, ...(run.continuation ?? [])]) report({ index: link.index, ok: false, error: reason });
      },
    );
  }
}
