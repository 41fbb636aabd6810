/**
 * The code that runs a batch inside a worker (a thread or a process): import the functions by
 * module URL + export name, run each chain of tasks in order with the shared `executeTask`,
 * await async results, and send back plain outcomes with timestamps on one clock
 * (`performance.timeOrigin + performance.now()`).
 */
import { serialize } from 'node:v8';
import { executeTask, isThenable, mapInputs } from '../core/execute.js';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { clock as now } from '../core/timings.js';
import { WORKER_MARK } from './mark.js';
import { isDelayedFunction } from '../graph/delayed.js';
import { registerLoader } from '../loader/register.js';
import { restoreValue, scanResult } from './wireValues.js';
import { decodeTask } from './wireTasks.js';
import { GLOBAL_URL, SOURCE_URL, builtInFunction, builtInPath, functionFromSource, sourceVerdictSync } from '../loader/lambda.js';
import { Errors } from '../errors.js';
import type { FnRef, WireBatch, WireError, WireLink, WireOutcome, WirePartial, WireResult } from './protocol.js';

const functions = new Map<string, Promise<Function>>();
/** Modules imported for tasks, by URL: where the classes of results are looked for first. */
const imported = new Map<string, Record<string, unknown>>();

function importFunction([url, name]: FnRef): Promise<Function> {
  const id = `${url}#${name}`;
  let found = functions.get(id);
  // a function no module exports, sent by its source (loader/lambda.ts)
  if (found === undefined && url === SOURCE_URL) functions.set(id, (found = Promise.resolve().then(() => functionFromSource(name))));
  if (found === undefined && url === GLOBAL_URL) functions.set(id, (found = Promise.resolve().then(() => builtInFunction(name))));
  if (found === undefined) {
    found = import(url).then((ns: Record<string, unknown>) => {
      imported.set(url, ns);
      const value = ns[name];
      const fn = isDelayedFunction(value) ? value.fn : value;
      if (typeof fn !== 'function') throw new TypeError(`${url} has no exported function ${JSON.stringify(name)} (found ${typeof value})`);
      return fn;
    });
    functions.set(id, found);
  }
  return found;
}

/**
 * Where the receiver finds a function a task returned: a module this worker imported exports it,
 * it is a built-in, or it closes over nothing (its source); else a TypeError naming the task.
 */
function functionRefOf(fn: Function, key: string): FnRef {
  for (const [url, ns] of imported) for (const [name, value] of Object.entries(ns)) if (value === fn) return [url, name];
  const path = builtInPath(fn);
  if (path !== undefined) return [GLOBAL_URL, path];
  const verdict = sourceVerdictSync(fn);
  if ('source' in verdict) return [SOURCE_URL, verdict.source];
  const what = verdict.captures.length > 0 ? `closes over ${verdict.captures.map((c) => `\`${c}\``).join(', ')}` : 'is bound or native';
  throw new TypeError(`The result of task ${JSON.stringify(key)} is a function that ${what}, so it cannot be sent back from a worker (functions travel as a module's export or by their source). Return one a module exports, one that closes over nothing, or data; or run with --scheduler sync.`);
}

/**
 * Module URL + export name of an error's class, when a module this worker imported for its tasks
 * exports it (an error of a built-in class, or of a class no such module exports: undefined).
 */
function errorClassRef(ctor: Function): FnRef | undefined {
  if (ctor === Error || ctor === TypeError || ctor === RangeError || ctor === SyntaxError || ctor === ReferenceError || ctor === EvalError || ctor === URIError) return undefined;
  for (const [url, ns] of imported) for (const [name, value] of Object.entries(ns)) if (value === ctor) return [url, name];
  return undefined;
}

/**
 * Module URL + export name of the class `cls`, for the receiver to rebuild its instances; a
 * TypeError naming the task and the class when no module exports it.
 */
async function classRef(cls: Function, key: string): Promise<FnRef> {
  const locate = await import('../loader/locate.js');
  for (const [url, ns] of imported) locate.registerModule(url, ns);
  const ref = await locate.locateFunction(cls);
  if (ref !== undefined && 'url' in ref) return [ref.url, ref.name];
  throw Errors.classNotExported(key, cls.name || '(anonymous class)');
}



export function toWireError(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(error)) if (k !== 'cause' && (v === null || ['string', 'number', 'boolean'].includes(typeof v))) props[k] = v;
    // the cause chain travels whole (a chain that loops back is cut after 16 links)
    const cause = 'cause' in error && error.cause !== undefined && depth < 16 ? toWireError(error.cause, depth + 1) : undefined;
    const cls = errorClassRef(error.constructor);
    return { name: error.name, message: error.message, stack: error.stack, props, ...(cause !== undefined ? { cause } : {}), ...(cls !== undefined ? { cls } : {}) };
  }
  // a thrown string, object or undefined travels as itself, when structured clone can carry it
  try {
    return { name: 'Error', message: `non-Error value thrown: ${String(error)}`, props: {}, thrown: { value: structuredClone(error) } };
  } catch {
    return { name: 'Error', message: `non-Error value thrown: ${String(error)}`, props: {} };
  }
}


/** Bytes the result takes serialized (what crosses the boundary); primitives without serializing. */
function serializedSize(value: unknown): number | undefined {
  switch (typeof value) {
    case 'number':
      return 9;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'string':
      return value.length + 5;
  }
  try {
    return serialize(value).byteLength;
  } catch {
    return undefined; // holds a SharedArrayBuffer: shared, not serialized
  }
}

/**
 * Sends outcomes before the batch ends (a thread's port, a process's IPC channel); false when
 * they could not be sent, and they go with the final reply instead (which names what failed).
 */
export type Emit = (partial: WirePartial) => boolean;

/** Report what finished once this long has passed since the last report. */
const STREAM_AFTER_MS = 1;

/**
 * When this worker started: its process's time origin, or for a thread (which shares its
 * process's origin) when Node set up the thread's environment.
 */
const STARTED_AT = performance.timeOrigin + (isMainThread ? 0 : performance.nodeTiming.environment);
/** When this worker first had a batch's functions loaded: the end of its start-up (core/phases.ts). */
let readyAt: number | undefined;

/** Node's gc, where the process was started with --expose-gc (distributed worker processes). */
const collectGarbage = (globalThis as { gc?: () => void }).gc;
/** Bytes of large inputs copied into this thread since its last collection. */
let copiedBytes = 0;
/** Collect once this much of copied inputs is garbage (a worker with a memory limit counts them in its process). */
const COLLECT_AFTER_BYTES = 32 * 1024 * 1024;

/**
 * Inputs arrive as copies (the worker keeps its own): big ones are garbage once the batch is
 * done, and V8 may not look for a while. Where gc is exposed, collect after enough of them.
 */
function collectCopies(chains: WireBatch['chains']): void {
  if (collectGarbage === undefined) return;
  for (const chain of chains) for (const link of chain) for (const [, v] of link.inputs) if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) copiedBytes += v.byteLength;
  if (copiedBytes < COLLECT_AFTER_BYTES) return;
  copiedBytes = 0;
  collectGarbage();
}

/** The sampling profiler, once a batch asked for it (loaded only then). */
let profiling: typeof import('./sampling.js') | undefined;

/** Chains waiting on a promise in this worker, over all its batches (see `asyncTasks`). */
let awaiting = 0;

/**
 * Runs one batch. Chains run in order; a chain whose task returns a promise waits for it aside
 * while the next chains start, so tasks that wait on I/O overlap (at most `batch.asyncTasks`
 * waiting at once in this worker). `markBuffers`: the results travel by postMessage (threads),
 * which turns a Buffer into a Uint8Array: say where the Buffers are, so the receiver restores them.
 */
export async function runBatch(batch: WireBatch, worker: string, emit?: Emit, markBuffers = false): Promise<WireResult> {
  if (batch.loader) registerLoader();
  if (batch.sourceMaps === true) process.setSourceMapsEnabled(true);
  (globalThis as Record<symbol, unknown>)[WORKER_MARK] = worker;
  let outcomes: WireOutcome[] = [];
  let streamed = 0;
  let fns: Function[];
  try {
    if (batch.preload !== undefined) await Promise.all(batch.preload.map((url) => import(url)));
    fns = await Promise.all(batch.fns.map(importFunction));
  } catch (error) {
    const start = now();
    for (const chain of batch.chains) outcomes.push({ i: chain[0]!.i, ok: false, error: toWireError(error), start, end: start });
    return { outcomes, worker, streamed };
  }
  readyAt ??= now();
  if (batch.profile !== undefined) {
    profiling ??= await import('./sampling.js');
    profiling.ensureSampling(batch.profile.channel, batch.profile.intervalMs);
  }
  // every message says when this worker started and was first ready: whoever sees it first notes it
  const startup = [STARTED_AT, readyAt] as const;
  if (emit !== undefined && batch.announce === true && emit({ worker, outcomes: [], startup })) streamed++;
  const batchStart = now();
  let lastReport = batchStart;
  const { chains } = batch;
  const limit = batch.asyncTasks ?? 1;
  const waiting = new Set<Promise<void>>();
  /** Class lookups of results still running (the outcomes wait for them). */
  const fixups = new Set<Promise<void>>();
  // the classes of class instances among the inputs, imported before any task runs
  const classes = new Map<string, Function>();
  const refs = new Map<string, FnRef>();
  for (const chain of chains) for (const link of chain) for (const [, , cls] of link.special ?? []) for (const [, ref] of cls ?? []) refs.set(`${ref[0]}#${ref[1]}`, ref);
  if (refs.size > 0) {
    try {
      await Promise.all([...refs].map(async ([id, ref]) => classes.set(id, await importFunction(ref))));
    } catch (error) {
      const start = now();
      for (const chain of chains) for (const link of chain) outcomes.push({ i: link.i, ok: false, error: toWireError(error), start, end: start });
      return { outcomes, worker, streamed, startup };
    }
  }
  const classOf = (ref: FnRef): Function => classes.get(`${ref[0]}#${ref[1]}`)!;
  let started = 0;
  /** With `batch.starts`: tasks begun and not said yet (number, time, …). */
  let begun: number[] = [];
  const tellStarts = emit !== undefined && batch.starts === true;
  let saidStart = false;

  /**
   * Says that a link began: at once for the first of the batch, then whenever a millisecond has
   * passed since the last message (what finished goes along, when it can).
   */
  const began = (i: number, t: number): void => {
    begun.push(i, t);
    if (saidStart && t - lastReport < STREAM_AFTER_MS) return;
    saidStart = true;
    const send = fixups.size === 0 ? outcomes : [];
    if (emit!({ worker, outcomes: send, started: begun, startup })) {
      streamed++;
      if (send === outcomes) outcomes = [];
      begun = [];
      lastReport = t;
    }
  };

  /** Sends what finished when a millisecond has passed since the last report and more is to come. */
  const report = (): void => {
    if (emit === undefined || outcomes.length === 0 || fixups.size > 0 || (started === chains.length && waiting.size === 0)) return;
    const t = now();
    if (t - lastReport >= STREAM_AFTER_MS && emit({ worker, outcomes, started: begun.length > 0 ? begun : undefined, startup })) {
      streamed++;
      outcomes = [];
      begun = [];
      lastReport = t;
    }
  };

  const inputsOf = (link: WireLink, previous: readonly [string, unknown] | undefined): Map<string, unknown> => {
    const inputs = new Map<string, unknown>(link.inputs);
    if (link.special !== undefined) {
      for (const [at, buffers, classes] of link.special) inputs.set(link.inputs[at]![0], restoreValue(link.inputs[at]![1], buffers, classes, classOf));
    }
    if (previous !== undefined) inputs.set(previous[0], previous[1]);
    return inputs;
  };

  /** Records a link's value; false (and the failure recorded) when it cannot be sent. */
  const succeed = (link: WireLink, value: unknown, start: number, syncMs: number | undefined, held: boolean): boolean => {
    const end = now();
    let special: ReturnType<typeof scanResult>;
    if (typeof value === 'function' && link.keep && batch.functionsOut === true) {
      // a task that returns a function: it goes back as where the receiver finds it, as task functions travel
      try {
        outcomes.push({ i: link.i, ok: true, value: undefined, fn: functionRefOf(value as Function, link.key), start, end, syncMs });
      } catch (error) {
        outcomes.push({ i: link.i, ok: false, error: toWireError(error), start, end });
        return false;
      }
      return true;
    }
    try {
      // one walk: refuses what cannot be sent, and finds the Buffers and class instances to restore
      special = link.keep ? scanResult(value, markBuffers, link.key) : undefined;
    } catch (error) {
      outcomes.push({ i: link.i, ok: false, error: toWireError(error), start, end });
      return false;
    }
    const bytes = batch.measure && link.keep ? serializedSize(value) : undefined;
    const outcome: WireOutcome = { i: link.i, ok: true, value: link.keep ? value : undefined, start, end, bytes, buffers: special?.buffers, syncMs, held: held && link.keep ? true : undefined };
    outcomes.push(outcome);
    const instances = special?.instances;
    if (instances !== undefined) {
      // the receiver needs each instance's class by module and name: found before the outcome goes
      const fixup = Promise.all(instances.map(([path, cls]) => classRef(cls, link.key).then((ref) => [path, ref] as const))).then(
        (classes) => void Object.assign(outcome, { classes }),
        (error: unknown) => void outcomes.splice(outcomes.indexOf(outcome), 1, { i: link.i, ok: false, error: toWireError(error), start, end }),
      );
      fixups.add(fixup);
      void fixup.finally(() => fixups.delete(fixup));
    }
    return true;
  };

  /** Records the links after `at` in its chain as not run (every task is reported once). */
  const skipRest = (chain: readonly WireLink[], at: number, start: number): void => {
    for (const rest of chain.slice(at + 1)) {
      outcomes.push({ i: rest.i, ok: false, error: toWireError(new Error(`not run: task ${JSON.stringify(chain[at]!.key)} before it in the same chain failed`)), start, end: start });
    }
  };

  /** Records a failed link, and the links after it as not run. */
  const fail = (chain: readonly WireLink[], at: number, error: unknown, start: number): void => {
    outcomes.push({ i: chain[at]!.i, ok: false, error: toWireError(error), start, end: now() });
    skipRest(chain, at, start);
  };

  /** Runs `chain` from link `from`; a promise once a link returns one (the rest then runs after it). */
  const runChain = (chain: readonly WireLink[], from: number, previous: readonly [string, unknown] | undefined): Promise<void> | undefined => {
    for (let j = from; j < chain.length; j++) {
      const link = chain[j]!;
      const start = now();
      if (tellStarts) began(link.i, start);
      let value: unknown;
      try {
        value = executeTask(decodeTask(link.task, fns), mapInputs(inputsOf(link, previous)));
      } catch (error) {
        fail(chain, j, error, start);
        return undefined;
      }
      if (isThenable(value)) {
        const syncMs = now() - start;
        return (async () => {
          let settled: unknown;
          try {
            settled = await value;
          } catch (error) {
            fail(chain, j, error, start);
            return;
          }
          if (!succeed(link, settled, start, syncMs, j < chain.length - 1)) {
            skipRest(chain, j, start);
            return;
          }
          report();
          await runChain(chain, j + 1, [link.key, settled]);
        })();
      }
      if (!succeed(link, value, start, undefined, j < chain.length - 1)) {
        skipRest(chain, j, start);
        return undefined;
      }
      report();
      previous = [link.key, value];
    }
    return undefined;
  };

  for (let c = 0; c < chains.length; c++) {
    while (awaiting >= limit && waiting.size > 0) await Promise.race(waiting);
    started++;
    const pending = runChain(chains[c]!, 0, undefined);
    if (pending !== undefined) {
      awaiting++;
      const tracked: Promise<void> = pending.finally(() => {
        awaiting--;
        waiting.delete(tracked);
      });
      waiting.add(tracked);
    }
    // over budget with chains left: hand them back rather than keep another worker waiting
    if (emit !== undefined && batch.budgetMs !== undefined && c < chains.length - 1 && now() - batchStart > batch.budgetMs) {
      const skipped: number[] = [];
      let returned: Array<readonly [string, unknown]> | undefined;
      for (let rest = c + 1; rest < chains.length; rest++) {
        skipped.push(rest);
        // inputs lent to a chain that never started go back as they came
        for (const link of chains[rest]!) for (const at of link.lent ?? []) (returned ??= []).push(link.inputs[at]!);
      }
      started = chains.length;
      await Promise.all(waiting);
      await Promise.all(fixups);
      return { outcomes, worker, streamed, skipped, returned, startup };
    }
  }
  await Promise.all(waiting);
  await Promise.all(fixups);
  profiling?.flushSamples();
  collectCopies(chains);
  return { outcomes, worker, streamed, startup };
}
