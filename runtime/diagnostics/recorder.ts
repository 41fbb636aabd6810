/**
 * `Recorder`: a callback that measures a run (per-task timings, resource samples) and turns it
 * into a `RunRecord` (record.ts) once it finishes: task states and their times from the core's
 * transition log, what happened inside workers from the core's timings.
 */
import { availableParallelism } from 'node:os';
import { serialize } from 'node:v8';
import { inspect } from 'node:util';
import type { Callback } from '../core/callbacks.js';
import { STATUS_NAMES, type SchedulerState, taskStamps } from '../core/state.js';
import { clock } from '../core/timings.js';
import { keyGroup, taskFunction } from '../graph/spec.js';
import type { CompiledGraph } from '../graph/compile.js';
import { describeFunction, functionLocation } from '../loader/locate.js';
import { type FunctionInfo, RECORD_FORMAT, RECORD_VERSION, type RecordedWorker, type ResultSummary, type RunRecord, type Stamps } from './record.js';
import { ResourceProfiler } from './resources.js';
import { SKEIN_VERSION } from '../version.js';

export interface RecordMeta {
  readonly graphFile?: string | null;
  readonly scheduler: string;
  readonly numWorkers: number;
  readonly keys: readonly string[];
  readonly error?: unknown;
  /** The run's duration as its caller measured it (see the record's `run.elapsedMs`). */
  readonly elapsedMs?: number;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

function stamps(a: Float64Array): Stamps {
  return Array.from(a, (v) => (Number.isNaN(v) ? null : round3(v)));
}

function workerKind(name: string): RecordedWorker['kind'] {
  return name.startsWith('thread') ? 'thread' : name.startsWith('process') ? 'process' : 'main';
}

/** The `graph` part of a record: keys, groups, dependencies, order, and each task's function with its source line. */
export function graphSection(graph: CompiledGraph, priority: Int32Array): RunRecord['graph'] {
  const functions: FunctionInfo[] = [];
  const fnIndex = new Map<Function, number>();
  const fnOfTask = graph.values.map((v) => {
    const fn = taskFunction(v);
    if (fn === undefined) return -1;
    let i = fnIndex.get(fn);
    if (i === undefined) {
      const where = functionLocation(fn);
      i = functions.length;
      functions.push({ name: describeFunction(fn), file: where?.file ?? null, line: where?.line ?? null });
      fnIndex.set(fn, i);
    }
    return i;
  });
  return {
    keys: [...graph.keys],
    groups: graph.keys.map(keyGroup),
    dependencies: graph.keys.map((_, t) => Array.from(graph.deps.subarray(graph.depStart[t]!, graph.depStart[t + 1]!))),
    order: Array.from(priority),
    functions,
    function: fnOfTask,
  };
}

export function summarizeValue(key: string, value: unknown): ResultSummary {
  let bytes: number | null = null;
  try {
    bytes = serialize(value).byteLength;
  } catch {
    bytes = null;
  }
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  const preview = inspect(value, { depth: 2, maxArrayLength: 10, maxStringLength: 100, breakLength: Infinity });
  return { key, type, bytes, preview: preview.length > 300 ? `${preview.slice(0, 300)}…` : preview };
}

export class Recorder implements Callback {
  readonly timings = true;
  readonly resources: ResourceProfiler;
  #state: SchedulerState | undefined;
  #startedAt = 0;
  #finishedAt = 0;

  constructor(options: { resourceIntervalMs?: number } = {}) {
    this.resources = new ResourceProfiler({ intervalMs: options.resourceIntervalMs ?? 100 });
  }

  start(): void {
    this.#startedAt = clock();
    this.resources.start();
  }

  startState(_dsk: unknown, state: SchedulerState): void {
    this.#state = state;
  }

  finish(): void {
    this.#finishedAt = clock();
    this.resources.finish();
  }

  /** The record of the last run; `results` are the values of `meta.keys`, in order. */
  toRecord(meta: RecordMeta, results: readonly unknown[] = []): RunRecord {
    const state = this.#state;
    const timings = state === undefined ? undefined : taskStamps(state);
    if (state === undefined || timings === undefined) throw new Error('Recorder: no run was recorded');
    const { graph } = state;
    const error = meta.error;
    const errorKey = error !== undefined && error !== null && typeof error === 'object' && 'key' in error ? String((error as { key: unknown }).key) : null;
    const cancelled = error instanceof Error && (error as { code?: string }).code === 'CANCELLED';
    return {
      format: RECORD_FORMAT,
      version: RECORD_VERSION,
      skeinVersion: SKEIN_VERSION,
      createdAt: new Date().toISOString(),
      run: {
        graphFile: meta.graphFile ?? null,
        scheduler: meta.scheduler,
        numWorkers: meta.numWorkers,
        keys: [...meta.keys],
        startedAt: this.#startedAt,
        finishedAt: this.#finishedAt,
        ...(meta.elapsedMs !== undefined ? { elapsedMs: Math.round(meta.elapsedMs * 10) / 10 } : {}),
        status: error === undefined ? 'ok' : cancelled ? 'cancelled' : 'erred',
        cpus: availableParallelism(),
        node: process.version,
      },
      graph: graphSection(graph, state.priority),
      tasks: {
        status: Array.from(state.status, (s) => STATUS_NAMES[s]!),
        ready: stamps(timings.ready),
        dispatched: stamps(timings.dispatched),
        started: stamps(timings.started),
        finished: stamps(timings.finished),
        received: stamps(timings.received),
        released: stamps(timings.released),
        erred: stamps(timings.erred),
        worker: Array.from(timings.worker),
        resultBytes: stamps(timings.resultBytes),
        busy: stamps(timings.busy),
      },
      workers: timings.workers.map((name, i) => {
        const startup = timings.startup[i];
        return startup === undefined ? { name, kind: workerKind(name) } : { name, kind: workerKind(name), startup: [round3(startup[0]), round3(startup[1])] as const };
      }),
      resources: this.resources.samples,
      results: error === undefined ? meta.keys.map((k, i) => summarizeValue(k, results[i])) : [],
      error:
        error === undefined
          ? null
          : {
              key: errorKey,
              message: error instanceof Error ? error.message : String(error),
              stack: error instanceof Error && error.cause instanceof Error ? (error.cause.stack ?? null) : null,
            },
    };
  }
}
