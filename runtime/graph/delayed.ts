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
  /**
   * How many values the call returns (a tuple): its Delayed can then be destructured,
   * `const [q, r] = delayed(divmod, { nout: 2 })(7, 2)`, each part a task of its own (Dask's `nout`).
   */
  readonly nout?: number;
  /** False: the value (or the arguments) are taken as they are, not looked into for delayed values (Dask's `traverse=False`). */
  readonly traverse?: boolean;
}

/** Reads one part of a result that is a tuple (sent to workers by its source). */
const getItem = (value: readonly unknown[], i: number): unknown => value[i];

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
    /** How many values it stands for (`nout`): then it can be destructured; undefined: it cannot. */
    readonly nout?: number,
  ) {
    // immutable, as Dask's: its key names its task, so neither may change once made
    Object.freeze(this);
  }

  /** Its parts, when made with `nout` (`const [q, r] = divmod(a, b)`): each a task reading one element. */
  *[Symbol.iterator](): Iterator<Delayed<unknown>> {
    if (this.nout === undefined) throw new TypeError(`Delayed ${JSON.stringify(this.key)} has no known length, so it cannot be iterated or destructured: make it with delayed(fn, { nout: n }).`);
    for (let i = 0; i < this.nout; i++) yield new Delayed(`getitem-${hashString(`${this.key}\u0001${i}`)}`, [getItem, this.key, i], [this as Delayed<unknown>]);
  }

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
  // (an attribute of a delayed value is callable: a function that is a Delayed too)
  return value !== null && (typeof value === 'object' || typeof value === 'function') && (value as Record<symbol, unknown>)[DELAYED] === true;
}

/** Reads an attribute of a task's result (sent to workers by its source). */
const getAttr = (value: Record<string, unknown>, name: string): unknown => value[name];
/** Calls a method of a task's result on it (sent to workers by its source). */
const callAttr = (value: Record<string, (...a: unknown[]) => unknown>, name: string, ...args: unknown[]): unknown => value[name]!(...args);

/** Names never read as attributes of the result: `await` looks for `then`, and printing and JSON for these. */
const NOT_ATTRIBUTES = new Set(['then', 'catch', 'finally', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType', '$$typeof']);

/**
 * A delayed value whose attributes are delayed too (Dask's `Delayed.__getattr__`): `d.x` is a
 * task reading `x` of d's result, `d.method(1)` one task calling it (no separate task for the
 * lookup), `d.length` its length. Its own members (`key`, `compute`, ...) are as they are.
 */
export function withAttributes<T>(d: Delayed<T>): DelayedProxy<T> {
  return new Proxy(d, {
    get(target, prop) {
      if (typeof prop === 'symbol' || prop in target || NOT_ATTRIBUTES.has(prop)) return Reflect.get(target, prop, target);
      return attribute(target, prop);
    },
  }) as DelayedProxy<T>;
}

/** `d[name]` as a delayed value, callable as a method of d's result. */
function attribute(owner: Delayed<unknown>, name: string): unknown {
  const read = new Delayed(`getattr-${hashString(`${owner.key}\u0001${name}`)}`, [getAttr, owner.key, name], [owner]);
  const call = (...args: unknown[]): Delayed<unknown> => {
    const deps: Delayed<unknown>[] = [owner];
    const key = `${name}-${tokenize([owner.key, name, ...args], keyOfDelayed)}`;
    const graphArgs = toGraphValue(args, deps, key, 'args') as unknown[];
    return withAttributes(new Delayed(key, [callAttr, owner.key, name, ...graphArgs], deps));
  };
  return new Proxy(call, {
    get(_fn, prop) {
      if (typeof prop === 'symbol' || prop in read || NOT_ATTRIBUTES.has(prop)) return Reflect.get(read, prop, read);
      return attribute(read, prop);
    },
    has: (_fn, prop) => prop in read,
    getPrototypeOf: () => Delayed.prototype,
  });
}

/** A delayed value's type with its result's attributes as delayed values, and its methods as calls that make them. */
export type DelayedProxy<T> = Delayed<T> & {
  readonly [K in AttributeKeys<T>]: Boxed<T>[K] extends (...args: infer A) => infer R ? ((...args: DelayedArgs<A>) => DelayedProxy<Awaited<R>>) & Delayed<Boxed<T>[K]> : DelayedProxy<Boxed<T>[K]>;
};

/** A primitive's methods are its wrapper's (`'a'.split`): the type whose attributes a result has. */
type Boxed<T> = T extends string ? String : T extends number ? Number : T extends boolean ? Boolean : T extends bigint ? BigInt : T;
/** The attributes a delayed value offers: its result's, less its own members' names. */
type AttributeKeys<T> = Exclude<keyof Boxed<T>, keyof Delayed<unknown>> & string;

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

/** Builds a Map from its entries in a task (sent to workers by its source). */
const toMap = (entries: ReadonlyArray<readonly [unknown, unknown]>): Map<unknown, unknown> => new Map(entries);
/** Builds a Set from its members in a task (sent to workers by its source). */
const toSet = (members: readonly unknown[]): Set<unknown> => new Set(members);
/** Returns its argument (`traverse: false`: the value kept as it is). */
const keepAsIs = (value: unknown): unknown => value;

/** Calls a method on its receiver in a task (a `delayed` method; sent to workers by its source). */
const callMethod = (method: Function, receiver: unknown, ...args: unknown[]): unknown => method.apply(receiver, args);

/** Delayed values inside a value replaced by their keys (collected as dependencies), delayed functions by their function. */
const TO_GRAPH_VALUE: Visitor<Delayed<unknown>[]> = {
  tasks: false,
  leaf(value, deps) {
    if (isDelayed(value)) {
      deps.push(value);
      return value.key;
    }
    if (isDelayedFunction(value)) return value.fn;
    // Maps and Sets are looked into as Dask looks into its collections: with a delayed value
    // inside, a task builds them from the computed members
    if (value instanceof Map || value instanceof Set) {
      if (!holdsDelayed(value)) return value;
      const members = mapValue([...value], TO_GRAPH_VALUE, deps, INSIDE);
      return [value instanceof Map ? toMap : toSet, members];
    }
    // an iterator is consumed when the graph is built (Dask makes it a list)
    if (isIterator(value)) return mapValue([...value], TO_GRAPH_VALUE, deps, INSIDE);
    refuseInstanceHoldingDelayed(value, 'delayed()');
    return value;
  },
};

const INSIDE = (): readonly [string, string] => ['delayed()', 'value'];

/** An iterator or generator object (not an array, Map or Set, which are iterable but not iterators). */
export function isIterator(value: unknown): value is IterableIterator<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Map || value instanceof Set) return false;
  const v = value as { next?: unknown; [Symbol.iterator]?: unknown };
  return typeof v.next === 'function' && typeof v[Symbol.iterator] === 'function';
}

/** Whether a delayed value is somewhere inside `value` (arrays, plain objects, Maps, Sets, class instances' fields). */
export function holdsDelayed(value: unknown, seen = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isDelayed(value)) return true;
  if (seen.has(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  seen.add(value);
  const members = value instanceof Map ? [...value].flat() : value instanceof Set || Array.isArray(value) ? [...value] : Object.values(value);
  return members.some((m) => holdsDelayed(m, seen));
}

/** A class instance holding a delayed value is refused: Skein does not look into class instances (it says what to do instead). */
export function refuseInstanceHoldingDelayed(value: unknown, call: string): void {
  if (value === null || typeof value !== 'object' || isPlainObject(value) || Array.isArray(value) || value instanceof Map || value instanceof Set) return;
  if (!Object.values(value).some((field) => holdsDelayed(field))) return;
  const name = (value as object).constructor?.name ?? 'class';
  const field = Object.keys(value).find((k) => holdsDelayed((value as Record<string, unknown>)[k]));
  throw new TypeError(`${call}: a ${name} instance holds a delayed value (at .${field}); Skein looks into arrays, plain objects, Maps and Sets, not class instances. Pass its fields as a plain object, or make the instance in a task: delayed((fields) => new ${name}(...))(...).`);
}

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
  (...args: DelayedArgs<A>): DelayedProxy<Awaited<R>>;
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
/** As a method decorator (`@delayed add(a, b) { … }`): calls build tasks that run the method on its receiver. */
export function delayed(method: Function, context: ClassMethodDecoratorContext): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a decorated method's calls return Delayed values, which its declared type cannot say
export function delayed<A extends readonly unknown[], R extends readonly unknown[]>(fn: (...args: A) => R | Promise<R>, options: DelayedOptions & { readonly nout: number }): (...args: DelayedArgs<A>) => Delayed<R> & Iterable<Delayed<R[number]>>;
export function delayed<A extends readonly unknown[], R>(fn: (...args: A) => R, options?: DelayedOptions): DelayedFunction<A, R>;
export function delayed<T>(value: T, options?: DelayedOptions): DelayedProxy<T>;
export function delayed(target: unknown, given?: DelayedOptions | ClassMethodDecoratorContext): unknown {
  // used as a decorator: the second argument is the decorator's context, not options
  const options = given !== undefined && 'kind' in given ? undefined : (given as DelayedOptions | undefined);
  const nout = options?.nout;
  if (nout !== undefined && (typeof nout !== 'number' || !Number.isInteger(nout) || nout < 0)) throw new RangeError(`delayed(): nout must be a whole number >= 0 (how many values the call returns); got ${String(nout)}.`);
  const look = options?.traverse === false ? (v: unknown) => v : undefined;
  if (isDelayed(target) && options?.key === undefined) return target;
  if (isDelayedFunction(target)) target = target.fn;
  if (typeof target === 'function') {
    const fn = target as (...args: unknown[]) => unknown;
    // a function that uses `this`, called as a method, keeps its receiver: the task calls it on
    // the receiver, which is part of the key (Dask's delayed methods)
    const usesThis = !/^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/.test(Function.prototype.toString.call(fn)) && /\bthis\b/.test(Function.prototype.toString.call(fn));
    const wrapper = function (this: unknown, ...args: unknown[]): Delayed<unknown> {
      const deps: Delayed<unknown>[] = [];
      const receiver = usesThis && this !== undefined && this !== null && this !== globalThis ? this : undefined;
      const key = makeKey(fn.name || 'lambda', receiver === undefined ? [fn, ...args] : [fn, receiver, ...args], options);
      if (receiver !== undefined) {
        const graphArgs = (look?.([receiver, ...args]) ?? toGraphValue([receiver, ...args], deps, key, 'args')) as unknown[];
        return withAttributes(new Delayed(key, [callMethod, fn, ...graphArgs], deps, nout));
      }
      const graphArgs = (look?.(args) ?? toGraphValue(args, deps, key, 'args')) as unknown[];
      return withAttributes(new Delayed(key, [fn, ...graphArgs], deps, nout));
    };
    Object.defineProperty(wrapper, 'fn', { value: fn });
    Object.defineProperty(wrapper, DELAYED_FUNCTION, { value: true });
    Object.defineProperty(wrapper, 'name', { value: fn.name });
    return wrapper;
  }
  const deps: Delayed<unknown>[] = [];
  const prefix = Array.isArray(target) ? 'list' : isPlainObject(target) ? 'dict' : typeof target;
  const key = makeKey(prefix, [target], options);
  // not looked into: a value the graph spec would read (a task, a key's name) is kept as it is by a task returning it
  if (look !== undefined) return withAttributes(new Delayed(key, [keepAsIs, target], deps, nout));
  return withAttributes(new Delayed(key, toGraphValue(target, deps, key, 'value'), deps, nout));
}
