/**
 * The delayed API: ordinary calls that build a graph instead of running.
 *
 *     const a = delayed(load)('a.csv');          // Delayed, key "load-<hash>"
 *     const t = delayed(total)(a, delayed(load)('b.csv'));
 *     await t.compute();                         // runs the merged graph
 *
 * A `Delayed` holds only its own graph value and the delayed values it uses; the whole graph is
 * assembled once, when it is computed, so building a long chain stays linear. Keys are
 * `<fnName>-<token>`. As in Dask, calls are impure by default: each call is a task of its own,
 * so `delayed(Math.random)()` twice gives two numbers. The token then hashes the call and its
 * place in the sequence of calls this process made, so a program that makes the same calls gets
 * the same keys on every run (the debugger and the CLI list keys in one process and run them in
 * another). `{pure: true}` (or the `delayedPure` config key) makes the key depend on the
 * function and the arguments alone, so equal calls are one task, computed once; `{key}` names
 * the result explicitly.
 */
import { type Key, isPlainObject } from './spec.js';
import { type Visitor, mapValue } from './walk.js';
import { hashString, tokenize } from './tokenize.js';
import { config } from '../core/config.js';

const DELAYED = Symbol.for('skein.delayed');
const DELAYED_FUNCTION = Symbol.for('skein.delayedFunction');

export interface DelayedOptions {
  /** The key of the result (only for one call: a fixed key names one task). */
  readonly key?: Key;
  /** Same function and arguments give the same key, one task (default: the `delayedPure` config key, false). */
  readonly pure?: boolean;
  /** Prefix for automatic keys instead of the function's name. */
  readonly name?: string;
}

/** Hook installed by the scheduling front-end, so `.compute()` has no import cycle. */
let computeHook: ((value: Delayed<unknown>, options?: object) => Promise<unknown>) | undefined;
export function setComputeHook(hook: typeof computeHook): void {
  computeHook = hook;
}

/** Hook installed by the diagnostics module, so `.visualizeGraph()` has no import cycle. */
let visualizeHook: ((value: Delayed<unknown>, file: string) => void) | undefined;
export function setVisualizeHook(hook: typeof visualizeHook): void {
  visualizeHook = hook;
}

/** A lazy value: a key, its graph value, and the delayed values it depends on. */
export class Delayed<T = unknown> {
  readonly [DELAYED] = true;
  /** Only for typing: the value this resolves to. */
  declare readonly __type?: T;

  constructor(
    readonly key: Key,
    /** The graph value stored under `key`: a task, an alias, or a literal. */
    readonly task: unknown,
    /** Delayed values `task` refers to. */
    readonly dependencies: readonly Delayed<unknown>[],
  ) {}

  /** The full graph this value needs, in dependency-first order. */
  get graph(): Map<Key, unknown> {
    return mergeGraphs([this]);
  }

  /** Computes this value (same options as `compute`). */
  compute(options?: object): Promise<T> {
    if (computeHook === undefined) throw new Error('Skein runtime not initialised');
    return computeHook(this, options) as Promise<T>;
  }

  /** Writes the graph panel for this value's graph as a self-contained HTML file (Dask's `visualize`). */
  visualizeGraph(file: string): void {
    if (visualizeHook === undefined) throw new Error('Skein runtime not initialised');
    visualizeHook(this, file);
  }

  toString(): string {
    return `Delayed(${JSON.stringify(this.key)})`;
  }
}

export function isDelayed(value: unknown): value is Delayed<unknown> {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[DELAYED] === true;
}

/** Merges the graphs of `values` (shared sub-graphs once), dependencies before dependents. */
export function mergeGraphs(values: Iterable<Delayed<unknown>>): Map<Key, unknown> {
  const out = new Map<Key, unknown>();
  const seen = new Set<Delayed<unknown>>();
  const stack: Array<[Delayed<unknown>, number]> = [];
  for (const root of values) {
    if (seen.has(root)) continue;
    seen.add(root);
    stack.push([root, 0]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.dependencies.length) {
        top[1] = i + 1;
        const dep = node.dependencies[i]!;
        if (!seen.has(dep)) {
          seen.add(dep);
          stack.push([dep, 0]);
        }
      } else {
        stack.pop();
        out.set(node.key, node.task);
      }
    }
  }
  return out;
}

/** Delayed values inside a value replaced by their keys (collected as dependencies), delayed functions by their function. */
const TO_GRAPH_VALUE: Visitor<Delayed<unknown>[]> = {
  tasks: false,
  leaf(value, deps) {
    if (isDelayed(value)) {
      deps.push(value);
      return value.key;
    }
    return isDelayedFunction(value) ? value.fn : value;
  },
};

/** `value` as a graph value, with the delayed values it holds in `deps`; `key` and `root` name it in errors. */
function toGraphValue(value: unknown, deps: Delayed<unknown>[], key: Key, root: string): unknown {
  return mapValue(value, TO_GRAPH_VALUE, deps, () => [`Task ${JSON.stringify(key)}`, root]);
}

const keyOfDelayed = (v: object): string | undefined => (isDelayed(v) ? v.key : undefined);

/** Impure calls made so far in this process: the place of a call in the sequence. */
let impureCalls = 0;

function makeKey(prefix: string, parts: readonly unknown[], options: DelayedOptions | undefined): Key {
  if (options?.key !== undefined) return options.key;
  const pure = options?.pure ?? config.get('delayedPure');
  const token = tokenize(parts, keyOfDelayed);
  return `${options?.name ?? prefix}-${pure ? token : hashString(`${token}#${impureCalls++}`)}`;
}

type MaybeDelayed<T> = T | Delayed<T>;
type DelayedArgs<A extends readonly unknown[]> = { [I in keyof A]: MaybeDelayed<A[I]> };

/** A function wrapped by `delayed`: calling it builds a task instead of running. */
export interface DelayedFunction<A extends readonly unknown[], R> {
  (...args: DelayedArgs<A>): Delayed<Awaited<R>>;
  /** The wrapped function (what workers call). */
  readonly fn: (...args: A) => R;
  readonly [DELAYED_FUNCTION]: true;
}

export function isDelayedFunction(value: unknown): value is DelayedFunction<unknown[], unknown> {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[DELAYED_FUNCTION] === true;
}

/**
 * `delayed(fn)` wraps a function so calls build tasks; `delayed(value)` makes a lazy value
 * (delayed values inside arrays and plain objects become dependencies).
 */
export function delayed<A extends readonly unknown[], R>(fn: (...args: A) => R, options?: DelayedOptions): DelayedFunction<A, R>;
export function delayed<T>(value: T, options?: DelayedOptions): Delayed<T>;
export function delayed(target: unknown, options?: DelayedOptions): unknown {
  if (isDelayed(target) && options?.key === undefined) return target;
  if (isDelayedFunction(target)) target = target.fn;
  if (typeof target === 'function') {
    const fn = target as (...args: unknown[]) => unknown;
    const wrapper = (...args: unknown[]): Delayed<unknown> => {
      const deps: Delayed<unknown>[] = [];
      const key = makeKey(fn.name || 'lambda', [fn, ...args], options);
      const graphArgs = toGraphValue(args, deps, key, 'args') as unknown[];
      return new Delayed(key, [fn, ...graphArgs], deps);
    };
    Object.defineProperty(wrapper, 'fn', { value: fn });
    Object.defineProperty(wrapper, DELAYED_FUNCTION, { value: true });
    Object.defineProperty(wrapper, 'name', { value: fn.name });
    return wrapper;
  }
  const deps: Delayed<unknown>[] = [];
  const prefix = Array.isArray(target) ? 'list' : isPlainObject(target) ? 'dict' : typeof target;
  const key = makeKey(prefix, [target], options);
  return new Delayed(key, toGraphValue(target, deps, key, 'value'), deps);
}
