/**
 * Finds where each task function lives, as module URL + export name, so a worker thread or
 * process can import it (closures cannot cross a thread or process boundary in JavaScript).
 *
 * Three sources, in order:
 * 1. Modules Skein loaded itself: a graph file and the local modules it imports
 *    (`registerModule`), scanned once.
 * 2. The local modules statically imported by the modules on the call stack (a script that
 *    imports its tasks from `./tasks.mjs` and calls `compute`): they are loaded already, so
 *    importing them costs nothing and runs nothing.
 * 3. Any other function: V8's inspector tells which script defined it; that module is imported
 *    (it is already loaded, so this is the same module instance) and its exports are scanned.
 *
 * A function that is not exported from any module (an inline closure, a bound or native
 * function) cannot be located; the caller refuses the run before any task starts.
 */
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import { dirname, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { staticLocalImports } from './register.js';
import { isDelayedFunction } from '../graph/delayed.js';
import { GLOBAL_URL, SOURCE_URL, builtInPath, sourceVerdict } from './lambda.js';

export interface FunctionRef {
  readonly url: string;
  readonly name: string;
}

const located = new WeakMap<Function, FunctionRef>();
const scannedUrls = new Set<string>();

/** Modules registered whose own local imports are not scanned yet. */
const importsToScan: string[] = [];

/** Records every exported function of a module (and the functions inside delayed wrappers). */
export function registerModule(url: string, namespace: Record<string, unknown>): void {
  if (scannedUrls.has(url)) return;
  scannedUrls.add(url);
  namespaces.set(url, namespace);
  if (url.startsWith('file:')) importsToScan.push(url);
  for (const [name, value] of Object.entries(namespace)) {
    if (typeof value !== 'function') continue;
    if (!located.has(value)) located.set(value, { url, name });
    if (isDelayedFunction(value) && !located.has(value.fn)) located.set(value.fn, { url, name });
  }
}

/** The namespaces of the modules registered, by URL. */
const namespaces = new Map<string, Record<string, unknown>>();

/** What a registered module exports under `name`, without waiting (undefined when that module was not registered here). */
export function exportedValue(url: string, name: string): unknown {
  return namespaces.get(url)?.[name];
}

let session: Session | undefined;
const scriptUrls = new Map<string, string>();

function post<T>(method: string, params: object): T {
  let out: T | undefined;
  let failure: Error | null = null;
  session!.post(method, params, (error, result) => {
    failure = error;
    out = result as T;
  });
  if (failure) throw failure;
  return out!;
}

interface ScriptPosition {
  readonly url: string;
  /** 0-based, in the code V8 ran (before source maps). */
  readonly line: number;
  readonly column: number;
}

/** The URL of the script that defines `fn`, from V8's inspector, or undefined. */
function definingScript(fn: Function): string | undefined {
  try {
    return functionPosition(fn)?.url;
  } catch {
    return undefined; // no inspector here: the function cannot be located, and the caller says so
  }
}

/** Where V8 says `fn` is defined, or undefined for native and bound functions. */
function functionPosition(fn: Function): ScriptPosition | undefined {
  if (session === undefined) {
    const s = new Session();
    s.connect(); // throws when an inspector is not available: then no function is located this way
    s.on('Debugger.scriptParsed', (m) => scriptUrls.set(m.params.scriptId, m.params.url));
    session = s;
  }
  const slot = '__skeinLocateProbe';
  const g = globalThis as Record<string, unknown>;
  g[slot] = fn;
  try {
    const { result } = post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `globalThis.${slot}` });
    if (result.objectId === undefined) return undefined;
    const props = post<{ internalProperties?: Array<{ name: string; value?: { value?: unknown } }> }>('Runtime.getProperties', {
      objectId: result.objectId,
      ownProperties: true,
    });
    post('Runtime.releaseObject', { objectId: result.objectId });
    const location = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as
      | { scriptId: string; lineNumber: number; columnNumber: number }
      | undefined;
    if (location === undefined) return undefined; // native or bound function
    if (!scriptUrls.has(location.scriptId)) {
      // scripts parsed since the last look: enabling the debugger reports every script once
      post('Debugger.enable', {});
      post('Debugger.disable', {});
    }
    const url = scriptUrls.get(location.scriptId);
    return url === undefined ? undefined : { url, line: location.lineNumber, column: location.columnNumber };
  } finally {
    delete g[slot];
  }
}

/** A function no module exports that uses names workers do not have (see lambda.ts). */
export interface CapturingFunction {
  readonly captures: readonly string[];
}

/** `fn` by its source when it closes over nothing workers lack; else what it closes over, or undefined (native, bound, class). */
async function bySource(fn: Function): Promise<FunctionRef | CapturingFunction | undefined> {
  const path = builtInPath(fn);
  if (path !== undefined) return { url: GLOBAL_URL, name: path };
  const verdict = await sourceVerdict(fn);
  if ('captures' in verdict) return verdict.captures.length > 0 ? verdict : undefined;
  const ref = { url: SOURCE_URL, name: verdict.source };
  located.set(fn, ref);
  return ref;
}

/** A function defined in a module whose top-level code has not finished (see `locateFunction`). */
export interface EvaluatingModule {
  readonly evaluating: string;
}

/**
 * How long importing a module that is already loaded may take before it counts as still
 * evaluating: such an import settles at once, unless the module's top-level await is pending.
 */
const EVALUATING_AFTER_MS = 500;

/** Imports a module that is already loaded: its namespace, 'stuck' while it evaluates, or undefined if it fails. */
async function importLoaded(url: string): Promise<Record<string, unknown> | 'stuck' | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), EVALUATING_AFTER_MS)));
  try {
    return await Promise.race([import(url) as Promise<Record<string, unknown>>, stuck]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Module URL + export name of `fn`; for a function no module exports, its source when it closes
 * over nothing workers lack (`SOURCE_URL`), `{captures}` when it does, undefined for a native or
 * bound function; `{evaluating}` when the module that defines it is still running its top-level
 * code (a script whose top-level await waits for this very compute: importing it would wait
 * forever) and it cannot travel by its source.
 */
export async function locateFunction(fn: Function): Promise<FunctionRef | EvaluatingModule | CapturingFunction | undefined> {
  const known = located.get(fn);
  if (known !== undefined) return known;
  // an inline lambda has no name a module could export it by, and a built-in is no module's: by
  // their source, or their path from the global object
  if (fn.name === '' || builtInPath(fn) !== undefined) return bySource(fn);
  // most task functions come from the helpers of the graph module or of the script that calls
  // Skein: scan those first (the inspector, below, is the general way, and costs tens of
  // milliseconds of CPU on first use)
  const found = (await scanLocalImports(fn)) ?? (noteCallers() ? await scanLocalImports(fn) : undefined);
  if (found !== undefined) return found;
  const url = definingScript(fn);
  if (url === undefined || !(url.startsWith('file:') || url.startsWith('data:')) || scannedUrls.has(url)) return bySource(fn);
  const namespace = await importLoaded(url);
  if (namespace === 'stuck') {
    const ref = await bySource(fn);
    return ref !== undefined && 'url' in ref ? ref : { evaluating: url };
  }
  if (namespace === undefined) {
    scannedUrls.add(url); // a CommonJS or unloadable script: nothing to find there
    return bySource(fn);
  }
  registerModule(url, namespace);
  return located.get(fn) ?? bySource(fn);
}

/** Scans the local imports of the modules queued so far, until `fn` is found. */
async function scanLocalImports(fn: Function): Promise<FunctionRef | undefined> {
  while (importsToScan.length > 0) {
    const from = fileURLToPath(importsToScan.shift()!);
    for (const path of staticLocalImports(from)) {
      const url = pathToFileURL(path).href;
      if (scannedUrls.has(url)) continue;
      const namespace = await importLoaded(url);
      if (namespace === 'stuck' || namespace === undefined) scannedUrls.add(url);
      else registerModule(url, namespace);
    }
    const found = located.get(fn);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Skein's own code: dist/runtime when bundled, runtime/ when run from source. */
const SKEIN_DIR = ((dir) => (dir.endsWith(`${sep}loader`) ? dirname(dir) : dir))(dirname(fileURLToPath(import.meta.url)));
const queuedCallers = new Set<string>();
/** A frame's file: a file URL (ES modules) or an absolute path (CommonJS). */
const FRAME_FILE = /(file:\/\/\/[^\s)]+?|\/[^\s():]+?\.[cm]?[jt]sx?):\d+:\d+/g;

/**
 * Queues the modules on the current (async) call stack that are not Skein's own or a package's,
 * for their local imports to be scanned; true if there was a new one. The calling module itself
 * is not imported: a script waiting in its top-level await would not finish importing. API
 * calls that locate functions later, off the caller's stack (`client.submit`), call it first.
 */
export function noteCallers(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  let queued = false;
  for (const match of stack.matchAll(FRAME_FILE)) {
    const file = match[1]!;
    if (queuedCallers.has(file)) continue;
    queuedCallers.add(file);
    let path: string;
    try {
      path = file.startsWith('file:') ? fileURLToPath(file) : file;
    } catch {
      continue;
    }
    if (path.startsWith(SKEIN_DIR + sep) || path.includes(`${sep}node_modules${sep}`)) continue;
    importsToScan.push(pathToFileURL(path).href);
    queued = true;
  }
  return queued;
}

/** How a function is shown in errors: its name, or the head of its source. */
export function describeFunction(fn: Function): string {
  if (fn.name && !fn.name.startsWith('bound ')) return fn.name;
  const source = Function.prototype.toString.call(fn).replace(/\s+/g, ' ');
  return fn.name.startsWith('bound ') ? `${fn.name} (a bound function)` : source.length > 60 ? `${source.slice(0, 60)}…` : source;
}

/** Source location of a function for people: file path and 1-based line, through source maps. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

const sourceLocations = new WeakMap<Function, SourceLocation | null>();

/** Where `fn` is written (the user's .ts line when a source map says so), or null. */
export function functionLocation(fn: Function): SourceLocation | null {
  const cached = sourceLocations.get(fn);
  if (cached !== undefined) return cached;
  let found: SourceLocation | null = null;
  try {
    const position = functionPosition(fn);
    if (position !== undefined && position.url.startsWith('file:')) {
      found = { file: fileURLToPath(position.url), line: position.line + 1, column: position.column + 1 };
      const map = findSourceMap(position.url) ?? findSourceMap(found.file);
      const entry = map?.findEntry(position.line, position.column) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
        const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
        found = { file: source, line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
      }
    }
  } catch {
    found = null; // no inspector in this process: locations are a nicety, not a requirement
  }
  sourceLocations.set(fn, found);
  return found;
}
