/**
 * The recorded-run file (schema; no Node APIs, so the browser panel uses it too) (`skein run ... --record run.skein.json`): one versioned JSON document
 * with the graph, every task's state changes with timestamps, the workers, resource samples,
 * a summary of the results and the error, if any. The graph panel, `skein report` and `--trace`
 * all read this one format.
 *
 * Tasks are numbered as in `graph.keys`; per-task data is stored column by column (one array
 * per field, one entry per task) so a million-task run stays compact. Timestamps are ms since the
 * epoch on the shared clock (core/timings.ts); `null` means "did not happen". Each timestamp is a
 * state change: `ready` → ready, `dispatched` → running (handed to a worker), `started`/`finished`
 * → the user's function ran, `received` → memory, `released` → released, `erred` → erred.
 *
 * Version history: 1 (this one).
 */
import { Errors } from '../errors.js';

export const RECORD_FORMAT = 'skein-run';
export const RECORD_VERSION = 1;

export interface FunctionInfo {
  readonly name: string;
  /** Source file (the user's .ts through source maps) and 1-based line; null when unknown. */
  readonly file: string | null;
  readonly line: number | null;
}

export interface RecordedWorker {
  readonly name: string;
  readonly kind: 'main' | 'thread' | 'process';
  /** When its thread or process started and when it was first ready to run a task (core/phases.ts); absent when unknown. */
  readonly startup?: readonly [number, number];
}

export interface ResourceSample {
  /** Timestamp (shared clock). */
  readonly t: number;
  /** "main" for the scheduling process, "process-<pid>" for a worker process. */
  readonly source: string;
  /** CPU used since the previous sample, percent of one core. */
  readonly cpuPercent: number;
  readonly rssBytes: number;
}

export interface ResultSummary {
  readonly key: string;
  readonly type: string;
  readonly bytes: number | null;
  readonly preview: string;
}

export type Stamps = Array<number | null>;

export interface RunRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly version: typeof RECORD_VERSION;
  readonly skeinVersion: string;
  readonly createdAt: string;
  readonly run: {
    readonly graphFile: string | null;
    readonly scheduler: string;
    readonly numWorkers: number;
    readonly keys: string[];
    readonly startedAt: number;
    readonly finishedAt: number;
    /**
     * How long the run took as the user waited for it (from the run's start, pool or cluster
     * start-up included, to its outcome): the one duration shown everywhere. Absent in older
     * records, and for a graph that has not run.
     */
    readonly elapsedMs?: number;
    readonly status: 'ok' | 'erred' | 'cancelled';
    readonly cpus: number;
    readonly node: string;
  };
  readonly graph: {
    readonly keys: string[];
    /** Key group per task (prefix before the last - or :). */
    readonly groups: string[];
    readonly dependencies: number[][];
    /** Static priority per task (0 runs first). */
    readonly order: number[];
    readonly functions: FunctionInfo[];
    /** Index into `functions` per task; -1 for aliases and values. */
    readonly function: number[];
  };
  readonly tasks: {
    /** Final state per task. */
    readonly status: string[];
    readonly ready: Stamps;
    readonly dispatched: Stamps;
    readonly started: Stamps;
    readonly finished: Stamps;
    readonly received: Stamps;
    readonly released: Stamps;
    readonly erred: Stamps;
    /** Index into `workers`, -1 when no worker ran it. */
    readonly worker: number[];
    readonly resultBytes: Stamps;
    /** ms each task kept its thread busy (the rest of its run it waited on a promise); absent in older records. */
    readonly busy?: Stamps;
  };
  readonly workers: RecordedWorker[];
  readonly resources: ResourceSample[];
  readonly results: ResultSummary[];
  readonly error: { readonly key: string | null; readonly message: string; readonly stack: string | null } | null;
}

const TASK_COLUMNS = ['status', 'ready', 'dispatched', 'started', 'finished', 'received', 'released', 'erred', 'worker', 'resultBytes'] as const;

function fail(source: string, why: string): never {
  throw Errors.badRecord(source, why);
}

function isStampArray(v: unknown, n: number): boolean {
  return Array.isArray(v) && v.length === n && v.every((x) => x === null || typeof x === 'number');
}

/** Checks a parsed document; returns it typed, or throws a clear BAD_RECORD error. */
export function validateRecord(doc: unknown, source = 'the document'): RunRecord {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(source, 'it is not a JSON object');
  const r = doc as Record<string, unknown>;
  if (r.format !== RECORD_FORMAT) fail(source, `"format" is ${JSON.stringify(r.format)}, expected "${RECORD_FORMAT}" (is this a file written by skein run --record?)`);
  if (r.version !== RECORD_VERSION) fail(source, `version ${JSON.stringify(r.version)} is not supported; this Skein reads version ${RECORD_VERSION}`);
  const run = r.run as Record<string, unknown> | undefined;
  if (!run || typeof run.scheduler !== 'string' || typeof run.startedAt !== 'number' || typeof run.finishedAt !== 'number' || !Array.isArray(run.keys)) {
    fail(source, '"run" must hold scheduler, keys, startedAt and finishedAt');
  }
  const graph = r.graph as Record<string, unknown> | undefined;
  if (!graph || !Array.isArray(graph.keys) || !graph.keys.every((k) => typeof k === 'string')) fail(source, '"graph.keys" must be an array of strings');
  const n = graph.keys.length;
  for (const field of ['groups', 'dependencies', 'order', 'function'] as const) {
    if (!Array.isArray(graph[field]) || (graph[field] as unknown[]).length !== n) fail(source, `"graph.${field}" must have one entry per key (${n})`);
  }
  const deps = graph.dependencies as unknown[];
  if (!deps.every((d) => Array.isArray(d) && d.every((i) => Number.isInteger(i) && i >= 0 && i < n))) fail(source, '"graph.dependencies" must list task numbers below the number of keys');
  if (!Array.isArray(graph.functions)) fail(source, '"graph.functions" must be an array');
  const tasks = r.tasks as Record<string, unknown> | undefined;
  if (!tasks) fail(source, '"tasks" is missing');
  for (const column of TASK_COLUMNS) {
    const v = tasks[column];
    const ok = column === 'status' ? Array.isArray(v) && v.length === n && v.every((s) => typeof s === 'string') : column === 'worker' ? Array.isArray(v) && v.length === n && v.every(Number.isInteger) : isStampArray(v, n);
    if (!ok) fail(source, `"tasks.${column}" must have one entry per key (${n})`);
  }
  if (tasks.busy !== undefined && !isStampArray(tasks.busy, n)) fail(source, `"tasks.busy" must have one entry per key (${n})`);
  for (const field of ['workers', 'resources', 'results'] as const) if (!Array.isArray(r[field])) fail(source, `"${field}" must be an array`);
  (r.workers as Array<{ startup?: unknown }>).forEach((w, i) => {
    const s = w?.startup;
    if (s !== undefined && !(Array.isArray(s) && s.length === 2 && s.every((x) => typeof x === 'number'))) fail(source, `"workers[${i}].startup" must be [start, end] in ms`);
  });
  return doc as RunRecord;
}

