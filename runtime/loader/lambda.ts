/**
 * Task functions that travel by their source: the lambdas people write with collections and
 * `delayed` (`bag.map((line) => line.split(' '))`, `x.mapBlocks((b) => b.map(Math.sqrt))`). A
 * function no module exports can still run in a worker thread or process when it closes over
 * nothing but what every worker has (JavaScript's built-ins and Node's globals): its source is
 * sent, and the worker compiles it once. Whether it closes over anything else is decided by
 * parsing it and finding its free variables (acorn-globals), not by trying: a lambda that uses a
 * local variable, an import or a module's constant is refused before any task starts, naming what
 * it uses.
 */
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';

/** The module URL of a function sent by its source (its "export name" is the source). */
export const SOURCE_URL = 'skein:source';
/** The module URL of a built-in function sent by its path (`Math.sqrt`, `Number`, `Boolean`). */
export const GLOBAL_URL = 'skein:global';

/** JavaScript's built-in functions by their path from the global object, as people pass them (`map(Number)`, `filter(Boolean)`, `map(Math.sqrt)`). */
const BUILT_INS = ((): Map<Function, string> => {
  const paths = new Map<Function, string>();
  const spaces = ['Math', 'JSON', 'Number', 'Object', 'Array', 'String', 'Date', 'Reflect', 'BigInt', 'Symbol'];
  for (const name of ['Number', 'String', 'Boolean', 'BigInt', 'Symbol', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI', 'structuredClone', 'Date', 'Array', 'Object']) {
    const value = (globalThis as Record<string, unknown>)[name];
    if (typeof value === 'function') paths.set(value, name);
  }
  for (const space of spaces) {
    const holder = (globalThis as Record<string, unknown>)[space] as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(holder)) {
      const value = Object.getOwnPropertyDescriptor(holder, key)?.value;
      if (typeof value === 'function' && !paths.has(value)) paths.set(value, `${space}.${key}`);
    }
  }
  return paths;
})();

/** The path of a built-in function (`Math.sqrt`), or undefined. */
export function builtInPath(fn: Function): string | undefined {
  return BUILT_INS.get(fn);
}

/** In a worker: the built-in function at `path`. */
export function builtInFunction(path: string): Function {
  let value: unknown = globalThis;
  for (const part of path.split('.')) value = (value as Record<string, unknown>)[part];
  if (typeof value !== 'function') throw new TypeError(`${path} is not a function in this worker`);
  return value;
}

/**
 * Names every worker has in scope: the language's built-ins (a fresh context's globals) and
 * Node's, plus `__name`, the helper esbuild and tsx put in compiled functions to keep names
 * (the worker defines it where it compiles).
 */
const WORKER_GLOBALS = new Set<string>([
  ...(runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]),
  ...['console', 'process', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'structuredClone'],
  ...['TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'performance', 'fetch', 'crypto', 'AbortController', 'AbortSignal', 'Blob', 'atob', 'btoa'],
  ...['EventTarget', 'Event', 'MessageChannel', 'BroadcastChannel', 'Headers', 'Request', 'Response', 'FormData'],
  'undefined',
  'arguments',
  '__name',
]);

/** A function's source, if it can travel that way; else the names it closes over (none for a native, bound or class). */
export type SourceVerdict = { readonly source: string } | { readonly captures: readonly string[] };

const verdicts = new WeakMap<Function, SourceVerdict>();

type FindGlobals = typeof import('acorn-globals').default;

/** The parser, loaded with the first function judged (a graph of exported functions never needs it). */
let findGlobals: FindGlobals | undefined;

/**
 * The parser, loaded synchronously (tokenize is synchronous): the CommonJS bundle the build puts
 * beside this file (the .vsix ships no node_modules), or, running from source, the package.
 */
function parser(): FindGlobals {
  if (findGlobals !== undefined) return findGlobals;
  const load = createRequire(import.meta.url);
  let loaded: unknown;
  try {
    loaded = load('./acornGlobals.cjs');
  } catch {
    loaded = load('acorn-globals'); // from source (tsx): no bundle beside this file
  }
  return (findGlobals = typeof loaded === 'function' ? (loaded as FindGlobals) : (loaded as { default: FindGlobals }).default);
}

/** Whether `fn` can travel by its source, and if not, what it closes over. */
export async function sourceVerdict(fn: Function): Promise<SourceVerdict> {
  return sourceVerdictSync(fn);
}

/** `sourceVerdict` without waiting (tokenize and a worker's results need it synchronously). */
export function sourceVerdictSync(fn: Function): SourceVerdict {
  let verdict = verdicts.get(fn);
  if (verdict === undefined) verdicts.set(fn, (verdict = judge(fn, parser())));
  return verdict;
}

function judge(fn: Function, findGlobals: typeof import('acorn-globals').default): SourceVerdict {
  const source = Function.prototype.toString.call(fn);
  // native and bound functions have no source to send; a class's methods may use `super`
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source) || /^class\b/.test(source)) return { captures: [] };
  const expression = asExpression(source, findGlobals);
  if (expression === undefined) return { captures: [] };
  // in the order they first appear
  const free = findGlobals(`(${expression});`)
    .filter(({ name }) => !WORKER_GLOBALS.has(name))
    .map(({ name, nodes }) => [name, Math.min(...nodes.map((n) => (n as { start: number }).start))] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
  return free.length === 0 ? { source: expression } : { captures: free };
}

/**
 * The source as an expression that evaluates to the function: arrows and function expressions as
 * they are; a method written in shorthand (`double(x) { … }`, from an object literal) as a
 * function expression. Undefined when it does not parse either way.
 */
function asExpression(source: string, findGlobals: typeof import('acorn-globals').default): string | undefined {
  const method = /^(async\s+)?(\*?)\s*([\s\S]*)$/.exec(source)!;
  const shorthand = `${method[1] ? 'async ' : ''}function${method[2]} ${method[3]}`;
  for (const candidate of [source, shorthand]) {
    try {
      findGlobals(`(${candidate});`);
      return candidate;
    } catch {
      // not this form
    }
  }
  return undefined;
}

const compiled = new Map<string, Function>();

/** In a worker: the function whose source was sent (compiled once per source). */
export function functionFromSource(source: string): Function {
  let fn = compiled.get(source);
  if (fn === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the source of a task function, checked to close over nothing
    fn = new Function('__name', `"use strict"; return (${source});`)(keepName) as Function;
    compiled.set(source, fn);
  }
  return fn;
}

function keepName<T extends Function>(target: T, value: string): T {
  return Object.defineProperty(target, 'name', { value, configurable: true });
}
