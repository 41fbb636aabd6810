/**
 * Every error Skein raises, as named factories, so messages are written once and tests can
 * compare them exactly. Each message names the key involved and says what to do.
 */
import type { Key } from './graph/spec.js';

/** Base class: every Skein error is an instance, with a stable `code`. */
export class SkeinError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkeinError';
    this.code = code;
  }
}

/** A task threw (or its worker died); the original error is the `cause`. */
export class TaskError extends SkeinError {
  readonly key: Key;
  /** Keys whose tasks finished before the failure, in the order they finished. */
  readonly finishedKeys: readonly Key[];
  constructor(key: Key, message: string, cause: unknown, finishedKeys: readonly Key[], code = 'TASK_FAILED') {
    super(code, message, { cause });
    this.name = 'TaskError';
    this.key = key;
    this.finishedKeys = finishedKeys;
    const causeStack = cause instanceof Error && typeof cause.stack === 'string' ? cause.stack : undefined;
    if (causeStack !== undefined) this.stack = `${this.name}: ${message}\nCaused by: ${causeStack}`;
  }
}

const MAX_LISTED = 10;

function listKeys(keys: readonly Key[]): string {
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, MAX_LISTED).join(', ');
  return keys.length > MAX_LISTED ? `${shown} and ${keys.length - MAX_LISTED} more` : shown;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    const shown = typeof error === 'string' || (error !== null && typeof error === 'object' && Object.getPrototypeOf(error) === Object.prototype) ? JSON.stringify(error) : String(error);
    return `non-Error value thrown: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`;
  } catch {
    return 'non-Error value thrown';
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** Up to `limit` candidates closest to `wanted`, closest first. */
export function closest(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored: Array<[number, string]> = [];
  let scanned = 0;
  for (const c of candidates) {
    if (++scanned > 50_000) break; // enough for a suggestion; keeps huge graphs fast
    scored.push([editDistance(wanted, c), c]);
  }
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));
  const cutoff = Math.max(2, Math.ceil(wanted.length / 2));
  return scored.filter(([d]) => d <= cutoff).slice(0, limit).map(([, c]) => c);
}

export const Errors = {
  /** `cycle`: the keys around it, the first again at the end (also on the error, for tools). */
  cycle: (cycle: readonly Key[]) =>
    Object.assign(new SkeinError('CYCLE', `Cycle detected in the graph: ${cycle.join(' -> ')}. A task cannot depend on itself, directly or through others; remove one of these dependencies.`), { cycle: [...cycle] }),
  missingKey: (key: Key, known: Iterable<Key>) => {
    const near = closest(key, known);
    return new SkeinError(
      'MISSING_KEY',
      `Key ${JSON.stringify(key)} is not in the graph.${near.length ? ` Closest keys: ${near.join(', ')}.` : ''} Request one of the graph's keys.`,
    );
  },
  badHead: (key: Key, head: string) =>
    new SkeinError('BAD_TASK', `Task ${JSON.stringify(key)} has ${head} at its head; a task is [fn, ...args] with a function first. Check that the function is defined and exported where you import it.`),
  taskFailed: (key: Key, error: unknown, finished: readonly Key[]) =>
    new TaskError(key, `Task ${JSON.stringify(key)} failed: ${messageOf(error)}\n  finished before the failure: ${listKeys(finished)}`, error, finished),
  cancelled: (reason: unknown, finished: readonly Key[]) =>
    new SkeinError('CANCELLED', `Computation cancelled${reason instanceof Error ? `: ${reason.message}` : reason !== undefined ? `: ${String(reason)}` : ''}; finished before cancelling: ${listKeys(finished)}`, { cause: reason }),
  /** `where`: `Task "k"` or `delayed(fn)`; `cycle`: the path that loops back (spec.ts cyclePath). */
  cyclicValue: (where: string, cycle: string | undefined) =>
    new SkeinError(
      'CYCLIC_VALUE',
      cycle === undefined
        ? `${where} has arguments nested more than 1000 levels deep; Skein walks arguments for the keys they name. Pass such a value as the result of a task instead (results are passed as they are).`
        : `${where} has an argument that contains itself (${cycle}). Skein walks a task's arguments for the keys they name, so they must not loop back. Make the object the result of a task instead (results are passed as they are, cycles included), or break the cycle.`,
    ),
  classNotExported: (key: Key, cls: string) =>
    new TypeError(
      `task ${JSON.stringify(key)} passes an instance of class ${cls} between workers, and no module exports the class, so its methods would be lost on the way (a copy keeps only the fields). Export the class from a module (export class ${/^[A-Za-z_$][\w$]*$/.test(cls) ? cls : 'MyClass'} …), pass plain data, or run with --scheduler sync.`,
    ),
  badRecord: (source: string, why: string) => new SkeinError('BAD_RECORD', `${source} is not a valid Skein run record: ${why}`),
  unreadableRecord: (file: string, reason: string) => new SkeinError('BAD_RECORD', `Cannot read ${file}: ${reason}`),
  callbackFailed: (hook: string, key: Key | undefined, error: unknown) =>
    new SkeinError(
      'CALLBACK_FAILED',
      `Callback ${hook}${key === undefined ? '' : ` for task ${JSON.stringify(key)}`} threw: ${error instanceof Error ? error.message : String(error)}. The run was stopped; fix or remove the callback.`,
      { cause: error },
    ),
  /** A bug in Skein: `what` says which. */
  internal: (what: string) => new SkeinError('INTERNAL', `${what}. This is a bug in Skein.`),
  stopped: () => new SkeinError('CANCELLED', 'run stopped'),
  noFile: (path: string) => new SkeinError('NO_FILE', `Graph file not found: ${path}`),
  noDefaultExport: (file: string) => new SkeinError('NOT_A_GRAPH', `${file} has no default export; export default a graph object, a delayed value, or an array of delayed values.`),
  /** `located`: file:line:column: message, the line and a caret (loader/syntax.ts). */
  syntax: (located: string) => new SkeinError('SYNTAX', located),
  notAGraph: (what: string) =>
    new SkeinError('NOT_A_GRAPH', `${what} must be a graph object, a delayed value, or an array of delayed values.`),
  unknownScheduler: (name: unknown, valid: readonly string[]) =>
    new SkeinError('BAD_CONFIG', `Unknown scheduler ${JSON.stringify(name)}; valid schedulers: ${valid.join(', ')}.`),
  badConfigValue: (key: string, value: unknown, expected: string, source: string) =>
    new SkeinError('BAD_CONFIG', `Bad value for config key ${JSON.stringify(key)} from ${source}: ${describeConfig(value)}; expected ${expected}.`),
  unknownConfigKey: (key: string, valid: readonly string[], source: string) => {
    const near = closest(key, valid, 1);
    return new SkeinError(
      'BAD_CONFIG',
      `Unknown config key ${JSON.stringify(key)} from ${source}.${near.length ? ` Did you mean ${JSON.stringify(near[0])}?` : ''} Valid keys: ${valid.join(', ')}.`,
    );
  },
  configFile: (file: string, reason: string) =>
    new SkeinError('BAD_CONFIG', `Cannot read config file ${file}: ${reason}`),
  unlocatable: (key: Key, fn: string, scheduler: string) =>
    new SkeinError(
      'UNLOCATABLE_FUNCTION',
      `Task ${JSON.stringify(key)} uses ${fn}, which ${scheduler} workers cannot load: they import task functions by module and export name, and this one is not exported from any module (an inline closure, a bound or a native function). Export it from a module (export function ...), or run with --scheduler sync.`,
    ),
  capturesLocals: (key: Key, fn: string, names: readonly string[], scheduler: string) =>
    new SkeinError(
      'UNLOCATABLE_FUNCTION',
      `Task ${JSON.stringify(key)} uses ${fn}, which closes over ${names.map((n) => `\`${n}\``).join(', ')}: ${scheduler} workers get a function no module exports as its source alone, without ${names.length === 1 ? 'that variable' : 'those variables'}. Pass ${names.length === 1 ? 'it as an argument' : 'them as arguments'} of the task, export the function from a module (export function ...), or run with --scheduler sync.`,
    ),
  moduleStillEvaluating: (key: Key, fn: string, file: string, scheduler: string) =>
    new SkeinError(
      'UNLOCATABLE_FUNCTION',
      `Task ${JSON.stringify(key)} uses ${fn}, defined in ${file}, a module that is still running its top-level code (a top-level await there is waiting for this compute), so ${scheduler} workers cannot import it. Move the task functions into a module of their own and import them from there (export const ${/^[A-Za-z_$][\w$]*$/.test(fn) ? fn : 'fn'} = … in tasks.mjs), or compute with {scheduler: 'sync'}.`,
    ),
  taskTimeout: (key: Key, ms: number) =>
    new SkeinError('TASK_TIMEOUT', `Task ${JSON.stringify(key)} ran longer than taskTimeoutMs (${ms} ms); its worker was stopped and replaced.`),
  syncTaskTimeout: (key: Key, ms: number) =>
    new SkeinError('TASK_TIMEOUT', `Task ${JSON.stringify(key)} ran longer than taskTimeoutMs (${ms} ms); the sync scheduler stopped waiting for its promise (work it started may still go on: one thread cannot stop it).`),
  noClient: () =>
    new SkeinError('NO_CLIENT', "The 'distributed' scheduler runs on a client, and none is open. Start one first: import { Client } from 'skein/distributed'; const client = new Client(); or pick another scheduler (threads, processes, sync)."),
  dashboardNeedsToken: (host: string) =>
    new SkeinError(
      'DASHBOARD_TOKEN',
      `The dashboard would listen on ${host}, beyond this machine, and anyone who reaches it would see your tasks and their errors: give it a token (dashboardToken, or --dashboard-token) that its link will carry, or listen on 127.0.0.1.`,
    ),
  clientClosed: () => new SkeinError('CLIENT_CLOSED', 'The distributed client is closed, or lost its scheduler; start a new Client to compute again.'),
  noWorkers: () => new SkeinError('NO_WORKERS', 'The cluster has no worker to send data to yet; wait for workers (await client.ready) or start one (skein worker ADDRESS).'),
  dataLost: (keys: readonly Key[], holder: string) =>
    new SkeinError('DATA_LOST', `The results ${keys.map((k) => JSON.stringify(k)).join(', ')} are no longer held by ${holder} (its worker died or released them); compute them again.`),
  workerDied: (key: Key, how: string) =>
    new SkeinError('WORKER_DIED', `The worker running task ${JSON.stringify(key)} died (${how}); it was replaced. Look for process.exit(), a crash in a native module, or running out of memory in this task.`),
};

function describeConfig(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
