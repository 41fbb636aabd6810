/**
 * What a client may send the scheduler, checked before the scheduler acts on it: a request with
 * a missing, wrong-typed or oversized argument is answered with an error naming the call and
 * what it expects, and the scheduler goes on serving (a request never kills it). Skein's own
 * client checks its arguments first; this guards against any other sender and against bugs.
 */
import type { ToScheduler } from './protocol.js';

/** The longest key the scheduler takes (characters). */
export const MAX_KEY_LENGTH = 65_536;
/** The most keys or tasks one request carries. */
export const MAX_LIST_LENGTH = 10_000_000;

type Check = (value: unknown) => boolean;

const string: Check = (v) => typeof v === 'string' && v.length <= MAX_KEY_LENGTH;
const key: Check = string;
const keys: Check = (v) => Array.isArray(v) && v.length <= MAX_LIST_LENGTH && v.every(key);
const count: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const time: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Check = (v) => typeof v === 'boolean';
const fnRef: Check = (v) => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';
const list: Check = (v) => Array.isArray(v) && v.length <= MAX_LIST_LENGTH;
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const object: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const taskSpec: Check = (v) => {
  if (!object(v)) return false;
  const t = v as Record<string, unknown>;
  return key(t.key) && Array.isArray(t.fns) && t.fns.every(fnRef) && keys(t.deps) && time(t.priority) && optional(time)(t.userPriority) && optional(count)(t.retries) && optional(keys)(t.workers);
};
const taskSpecs: Check = (v) => list(v) && (v as unknown[]).every(taskSpec);
const plugin: Check = (v) => object(v) && string((v as Record<string, unknown>).name) && ['worker', 'scheduler'].includes((v as Record<string, unknown>).kind as string) && fnRef((v as Record<string, unknown>).cls) && object((v as Record<string, unknown>).fields);

/** Each argument of each request a client sends: how it is checked, and what it must be (said back when it is not). */
const REQUESTS: Partial<Record<ToScheduler['op'], Record<string, readonly [Check, string]>>> = {
  'register-client': { client: [string, 'a client id (string)'] },
  'update-graph': { client: [string, 'a client id (string)'], tasks: [taskSpecs, 'a list of task specs ({ key, task, fns, deps, priority })'], wanted: [keys, 'a list of keys (strings)'], events: [bool, 'true or false'], values: [bool, 'true or false'] },
  scatter: { client: [string, 'a client id (string)'], keys: [keys, 'a list of keys (strings)'], nbytes: [(v) => Array.isArray(v) && v.every(count), 'a list of byte counts'], worker: [string, 'a worker address (string)'] },
  'release-keys': { client: [string, 'a client id (string)'], keys: [keys, 'a list of keys (strings)'] },
  'cancel-keys': { client: [string, 'a client id (string)'], keys: [keys, 'a list of keys (strings)'] },
  'retry-keys': { client: [string, 'a client id (string)'], keys: [keys, 'a list of keys (strings)'] },
  'who-has': { id: [count, 'a request id'], keys: [optional(keys), 'a list of keys (strings), or nothing for every key'] },
  'scheduler-info': { id: [count, 'a request id'] },
  story: { id: [count, 'a request id'], key: [key, 'a key (string)'] },
  'has-what': { id: [count, 'a request id'] },
  restart: { id: [count, 'a request id'] },
  'get-profile': { id: [count, 'a request id'] },
  'performance-data': { id: [count, 'a request id'], start: [time, 'a time (ms since the epoch)'] },
  'task-stream': { id: [count, 'a request id'], start: [time, 'a time (ms since the epoch)'] },
  'run-on-scheduler': { id: [count, 'a request id'], fn: [fnRef, 'a function reference [module URL, export name]'], args: [list, 'a list of arguments'] },
  'register-plugin': { id: [count, 'a request id'], plugin: [plugin, 'a plugin ({ name, kind, cls, fields })'] },
  'unregister-plugin': { id: [count, 'a request id'], name: [string, 'a plugin name (string)'] },
};

/** Ops a worker sends (checked only for being one of them: a worker is Skein's own code). */
const WORKER_OPS = new Set<string>(['register-worker', 'plugin-result', 'task-finished', 'task-erred', 'missing-data', 'heartbeat', 'worker-paused', 'memory-exceeded', 'profile', 'keys-added', 'steal-response', 'claim']);

/**
 * Why `message` is not a request the scheduler takes, or undefined when it is. `fromWorker`: the
 * connection registered as a worker.
 */
export function requestProblem(message: unknown, fromWorker: boolean): string | undefined {
  if (!object(message)) return `a request is an object with an op; got ${message === null ? 'null' : Array.isArray(message) ? 'an array' : typeof message}`;
  const m = message as Record<string, unknown>;
  const op = m.op;
  if (typeof op !== 'string') return 'a request needs an op (string)';
  const shape = REQUESTS[op as ToScheduler['op']];
  if (shape === undefined) {
    if (WORKER_OPS.has(op)) return fromWorker || op === 'register-worker' ? undefined : `${op} is a worker's message; this connection is not a worker`;
    return `unknown request ${JSON.stringify(op.slice(0, 100))}; the scheduler takes ${Object.keys(REQUESTS).join(', ')}`;
  }
  for (const [name, [check, expects]] of Object.entries(shape)) {
    let ok: boolean;
    try {
      ok = check(m[name]);
    } catch {
      ok = false;
    }
    if (!ok) return `${op}: ${name} must be ${expects}; got ${describeArgument(m[name])}`;
  }
  return undefined;
}

function describeArgument(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > MAX_LIST_LENGTH ? `a list of ${value.length} (at most ${MAX_LIST_LENGTH})` : 'a list with an element of another type';
  if (typeof value === 'string') return value.length > MAX_KEY_LENGTH ? `a string of ${value.length} characters (at most ${MAX_KEY_LENGTH})` : `the string ${JSON.stringify(value.slice(0, 60))}`;
  if (typeof value === 'object') return 'an object of another shape';
  return `${typeof value} ${String(value).slice(0, 60)}`;
}
