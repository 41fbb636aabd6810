/**
 * The user-facing entry points: `get` for raw graphs, `compute` for delayed values. They
 * resolve the configuration in scope, choose an executor for the scheduler it names, run the
 * one scheduling core, and always release what they started.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, closest } from './errors.js';
import { type Callback, globalCallbacks } from './core/callbacks.js';
import { type SchedulerSpec, type SkeinConfig, CONFIG_KEYS, resolveConfig } from './core/config.js';
import { type Executor, getAsync } from './core/local.js';
import { Delayed, holdsDelayed, isDelayed, isIterator, mergeGraphs, refuseInstanceHoldingDelayed, setComputeHook } from './graph/delayed.js';
import { type CompiledGraph, isCompiledGraph } from './graph/compile.js';
import { type Graph, type Key, describeValue, isPlainObject } from './graph/spec.js';
import { NOT_CYCLIC, type Visitor, type Where, containsTask, mapValue, scanValue } from './graph/walk.js';
import { optimize } from './graph/optimize.js';
import { inSkeinWorker } from './workers/mark.js';
import { SCHEDULER_FACTORIES } from './schedulers/registry.js';

/** Options of one `get` or `compute` call: any config key, plus a cancellation signal. */
/**
 * A scheduler of your own, in Dask's `get` shape: called with the graph (key → task or value, as
 * a plain object) and the keys asked for (a key, or nested lists of keys), it returns their values
 * in the same shape (or a promise of them). `compute(x, { scheduler: myGet })`.
 */
export type GetFunction = (graph: Record<string, unknown>, keys: Key | readonly unknown[]) => unknown;

export interface ComputeOptions extends Partial<Omit<SkeinConfig, 'numWorkers' | 'taskTimeoutMs' | 'poolIdleTimeoutMs' | 'scheduler'>> {
  /** A scheduler by name (Skein's or Dask's: `'sync'`, `'synchronous'`, `'threads'`...), or a `get` function of your own. */
  scheduler?: SchedulerSpec | GetFunction;
  numWorkers?: number | null;
  taskTimeoutMs?: number | null;
  poolIdleTimeoutMs?: number | null;
  /** Aborting it cancels the run; `compute` rejects with a CANCELLED error. */
  signal?: AbortSignal;
  /** False: only arguments that are delayed values themselves are computed; arrays and objects are given back as they are (Dask's `traverse=False`). */
  traverse?: boolean;
}

type NestedKeys = Key | readonly NestedKeys[];

/** Set while a run is in progress in this async context: a `get` made inside a task is nested. */
const insideRun = new AsyncLocalStorage<true>();

function splitOptions(options: ComputeOptions | undefined, nested = false): { cfg: SkeinConfig; signal?: AbortSignal; callbacks: Callback[] } {
  const { signal, ...rest } = options ?? {};
  const cfg = resolveConfig(rest as Record<string, unknown>);
  // callbacks registered globally see the outer run only, not a get made inside one of its tasks (Dask's rule)
  const globals = nested ? [] : globalCallbacks();
  return { cfg, signal, callbacks: [...globals, ...cfg.callbacks] };
}

function run(graph: Graph | CompiledGraph, keys: NestedKeys, options: ComputeOptions | undefined): Promise<unknown> {
  const nested = insideRun.getStore() === true;
  const custom = options?.scheduler;
  if (typeof custom === 'function') return insideRun.run(true, async () => custom(plainGraph(graph), keys));
  return insideRun.run(true, () => runHere(graph, keys, options, nested));
}

async function runHere(graph: Graph | CompiledGraph, keys: NestedKeys, options: ComputeOptions | undefined, nested: boolean): Promise<unknown> {
  const { cfg, signal, callbacks } = splitOptions(options, nested);
  if (cfg.scheduler === 'distributed' && !inSkeinWorker()) {
    // loaded only when used: the distributed scheduler runs on the default client
    const [{ Client }, { runOnClient }] = await Promise.all([import('./distributed/client.js'), import('./distributed/graphRun.js')]);
    const client = Client.current();
    if (client === undefined) throw Errors.noClient();
    // awaited here, so the caller stays on the async stack (task functions are found from its imports)
    return await runOnClient(client, graph, keys, { callbacks, signal, validate: cfg.validate });
  }
  const lease = await SCHEDULER_FACTORIES[inSkeinWorker() || cfg.scheduler === 'distributed' ? 'sync' : cfg.scheduler](cfg);
  try {
    return await getAsync(graph, keys, { executor: lease.executor, callbacks, signal, rerunExceptionsLocally: cfg.rerunExceptionsLocally, validate: cfg.validate });
  } finally {
    await lease.release();
  }
}

/**
 * The graph `compute` runs. It merged only what the keys need (nothing to cull, Dask's default
 * delayed optimization); with `optimization.fuse` its chains are fused (optimize.ts), unless
 * `optimizeGraph` is false. Never on the distributed scheduler, which keeps results by key across
 * graphs (persisted, or held by futures): fused away, such a key would be computed again.
 */
function optimized(graph: Map<Key, unknown>, keys: readonly Key[], options: ComputeOptions | undefined): Graph {
  const { signal: _signal, ...rest } = options ?? {};
  const custom = typeof rest.scheduler === 'function';
  const cfg = resolveConfig((custom ? { ...rest, scheduler: undefined } : rest) as Record<string, unknown>);
  const fuse = cfg.optimizeGraph && cfg['optimization.fuse'] && (custom || cfg.scheduler !== 'distributed');
  return fuse ? optimize(graph, keys, { cull: false }) : graph;
}

/** A graph as a plain object of key → task or value (what a `get` function of Dask's shape takes). */
function plainGraph(graph: Graph | CompiledGraph): Record<string, unknown> {
  if (isCompiledGraph(graph)) return Object.fromEntries(graph.keys.map((k, t) => [k, graph.values[t]]));
  return graph instanceof Map ? Object.fromEntries(graph) : { ...(graph as Record<string, unknown>) };
}

function checkKeys(keys: unknown): asserts keys is NestedKeys {
  if (typeof keys === 'string') return;
  if (Array.isArray(keys)) {
    for (const k of keys) checkKeys(k);
    return;
  }
  throw new TypeError(
    `get(graph, keys): keys must be a key (a string) or an array of keys (arrays may nest), got ${describeValue(keys)}. Options come third: get(graph, 'total', {scheduler: 'sync'}).`,
  );
}

/**
 * Runs a raw graph, as Dask's `get`: one key resolves to its value, an array of keys to an
 * array of values (nested arrays mirrored). Only what the keys need runs. A graph compiled
 * already (`compileGraph`) runs as it is.
 */
export function get(graph: Graph | CompiledGraph, keys: NestedKeys, options?: ComputeOptions): Promise<unknown> {
  try {
    checkKeys(keys);
    return run(graph, keys, options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Option names of `compute`'s last argument: every config key, `batching` (nested form) and `signal`. */
const OPTION_KEYS = new Set<string>(['signal', 'batching', 'traverse', ...CONFIG_KEYS]);

/** compute()'s arguments looping back on themselves: said, instead of a stack overflow. */
const ARGUMENT: Where = () => ['compute()', 'argument'];

const FINDS_DELAYED: Visitor<null> = { tasks: false, leaf: isDelayed };

function containsDelayed(value: unknown): boolean {
  return scanValue(value, FINDS_DELAYED, null, ARGUMENT);
}

/** The last argument is options when it is a plain object with an option key and no delayed value. */
function isOptions(value: unknown): value is ComputeOptions {
  return isPlainObject(value) && Object.keys(value).some((k) => OPTION_KEYS.has(k)) && !containsDelayed(value);
}

/**
 * Refuses a last argument that reads as misspelled options (`{schedular: 'sync'}`): a plain
 * object without delayed values whose keys are all option names or close to one. Computed as a
 * value, it would silently run with the default options instead.
 */
function checkMisspelledOptions(value: unknown): void {
  if (!isPlainObject(value) || containsDelayed(value)) return;
  const keys = Object.keys(value);
  if (keys.length === 0) return;
  const suggestions = keys.map((k) => (OPTION_KEYS.has(k) ? k : closest(k, OPTION_KEYS, 1)[0]));
  if (suggestions.some((s) => s === undefined) || keys.every((k) => OPTION_KEYS.has(k))) return;
  const wrong = keys.map((k, i) => [k, suggestions[i]!] as const).filter(([k]) => !OPTION_KEYS.has(k));
  throw new TypeError(
    `compute(): the last argument looks like options with ${wrong.map(([k, s]) => `${JSON.stringify(k)} (did you mean ${JSON.stringify(s)}?)`).join(', ')}. Options are ${[...OPTION_KEYS].join(', ')}; to compute a plain object, pass options after it.`,
  );
}

/** Values `compute` passes through as they are: it walks only arrays and plain objects. */
type Opaque = Function | Date | RegExp | Error | Map<unknown, unknown> | Set<unknown> | ArrayBuffer | ArrayBufferView | Promise<unknown> | SharedArrayBuffer;

/** What `compute` gives back for one argument: delayed values replaced by their results, in arrays and objects too. */
export type Computed<T> = T extends Delayed<infer R>
  ? R
  : T extends Opaque
    ? T
    : T extends readonly unknown[]
      ? { -readonly [I in keyof T]: Computed<T[I]> }
      : T extends object
        ? { -readonly [K in keyof T]: Computed<T[K]> }
        : T;

/** True when `T` reads as options: an object with an option name and no delayed value at its top. */
type LooksLikeOptions<T> = T extends Delayed<unknown> ? false : T extends object ? (Extract<keyof T, keyof ComputeOptions> extends never ? false : true) : false;

/** `compute`'s arguments, checked: a last argument with an option name must be valid options. */
export type ComputeArgs<T extends readonly unknown[]> = T extends readonly [...infer Rest, infer Last]
  ? LooksLikeOptions<Last> extends true
    ? readonly [...Rest, ComputeOptions]
    : T
  : T;

/** What `compute` resolves to: one entry per argument, the options left out. */
export type ComputeResult<T extends readonly unknown[]> = T extends readonly [...infer Rest, infer Last]
  ? LooksLikeOptions<Last> extends true
    ? { -readonly [I in keyof Rest]: Computed<Rest[I]> }
    : { -readonly [I in keyof T]: Computed<T[I]> }
  : { -readonly [I in keyof T]: Computed<T[I]> };

/** Where a delayed value was in compute()'s arguments: its result goes there. */
class Slot {
  constructor(readonly key: Key) {}
}

/** Maps and Sets that held delayed values, rebuilt with slots: rebuilt again with the results. */
const slotted = new WeakSet<object>();

/** Delayed values replaced by slots, collected as the roots to compute (in Maps and Sets too; iterators consumed). */
const TO_SLOTS: Visitor<Delayed<unknown>[]> = {
  tasks: false,
  leaf(value, roots) {
    if (isDelayed(value)) {
      roots.push(value);
      return new Slot(value.key);
    }
    if ((value instanceof Map || value instanceof Set) && holdsDelayed(value)) {
      const members = mapValue([...value], TO_SLOTS, roots, ARGUMENT) as unknown[];
      const rebuilt = value instanceof Map ? new Map(members as Array<[unknown, unknown]>) : new Set(members);
      slotted.add(rebuilt);
      return rebuilt;
    }
    if (isIterator(value)) return mapValue([...value], TO_SLOTS, roots, ARGUMENT);
    refuseInstanceHoldingDelayed(value, 'compute()');
    return value;
  },
};

/** Slots filled with the results. */
const FILL_SLOTS: Visitor<ReadonlyMap<Key, unknown>> = {
  tasks: false,
  leaf(value, results) {
    if (value instanceof Slot) return results.get(value.key);
    if ((value instanceof Map || value instanceof Set) && slotted.has(value)) {
      const members = mapValue([...value], FILL_SLOTS, results, NOT_CYCLIC) as unknown[];
      return value instanceof Map ? new Map(members as Array<[unknown, unknown]>) : new Set(members);
    }
    return value;
  },
};

/**
 * Computes several lazy values in one graph (shared work runs once). Resolves to an array with
 * one entry per argument; delayed values inside arrays and plain objects are replaced by their
 * results. A last argument made only of option keys (`{scheduler: 'sync'}`) is the options.
 */
export function compute<const T extends readonly unknown[]>(...args: T & ComputeArgs<T>): Promise<ComputeResult<T>>;
export async function compute(...args: unknown[]): Promise<unknown[]> {
  const given = args.length > 0 && isOptions(args[args.length - 1]) ? (args.pop() as ComputeOptions) : undefined;
  if (given === undefined && args.length > 0) checkMisspelledOptions(args[args.length - 1]);
  const { traverse, ...rest } = given ?? {};
  const options = given === undefined ? undefined : (rest as ComputeOptions);
  const roots: Delayed<unknown>[] = [];
  // traverse: false, Dask's: only arguments that are delayed values themselves are computed
  const shapes = traverse === false ? args.map((a) => (isDelayed(a) ? (roots.push(a), new Slot(a.key)) : a)) : args.map((a) => mapValue(a, TO_SLOTS, roots, ARGUMENT));
  if (roots.length === 0) return shapes;
  const keys = [...new Set(roots.map((r) => r.key))];
  const values = (await run(optimized(mergeGraphs(roots), keys, options), keys, options)) as unknown[];
  const results = new Map(keys.map((k, i) => [k, values[i]]));
  if (traverse === false) return shapes.map((s) => (s instanceof Slot ? results.get(s.key) : s));
  return shapes.map((s) => mapValue(s, FILL_SLOTS, results, NOT_CYCLIC));
}

setComputeHook(async (value, options) => (await compute(value, ...(options ? [options as ComputeOptions] : [])))[0]);

/** What `persist` gives back for its arguments: the same shapes, delayed values still delayed (now holding their results). */
export type PersistResult<T extends readonly unknown[]> = T extends readonly [...infer Rest, infer Last]
  ? LooksLikeOptions<Last> extends true
    ? { -readonly [I in keyof Rest]: Rest[I] }
    : { -readonly [I in keyof T]: T[I] }
  : { -readonly [I in keyof T]: T[I] };

/**
 * Computes delayed values now and gives them back holding their results (Dask's `persist`):
 * the same keys, each with a graph of one value, so later graphs built on them start from the
 * results instead of computing them again. On the distributed scheduler the results stay on the
 * cluster (`client.persist`). Arguments and options as `compute`'s.
 */
export function persist<const T extends readonly unknown[]>(...args: T & ComputeArgs<T>): Promise<PersistResult<T>>;
export async function persist(...args: unknown[]): Promise<unknown[]> {
  const options = args.length > 0 && isOptions(args[args.length - 1]) ? (args.pop() as ComputeOptions) : undefined;
  const roots: Delayed<unknown>[] = [];
  const shapes = args.map((a) => mapValue(a, TO_SLOTS, roots, ARGUMENT));
  if (roots.length === 0) return args;
  const { cfg } = splitOptions(options);
  if (cfg.scheduler === 'distributed' && !inSkeinWorker() && typeof options?.scheduler !== 'function') {
    const { Client } = await import('./distributed/client.js');
    const client = Client.current();
    if (client === undefined) throw Errors.noClient();
    const kept = new Map(roots.map((d) => [d.key, client.persist(d)]));
    return shapes.map((s) => mapValue(s, FILL_SLOTS, kept, NOT_CYCLIC));
  }
  const keys = [...new Set(roots.map((r) => r.key))];
  const values = (await run(optimized(mergeGraphs(roots), keys, options), keys, options)) as unknown[];
  // a result the graph spec would read as something else (a string: an alias of a key; a value
  // holding a task) is not made a literal: that value stays lazy rather than be misread
  const byKey = new Map(roots.map((r) => [r.key, r]));
  const held = new Map(keys.map((k, i) => [k, typeof values[i] === 'string' || containsTask(values[i]) ? byKey.get(k)! : new Delayed(k, values[i], [])]));
  return shapes.map((s) => mapValue(s, FILL_SLOTS, held, NOT_CYCLIC));
}
