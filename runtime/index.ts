/**
 * Skein's runtime library: Dask-style task graphs for TypeScript.
 *
 *     import { compute, delayed, config } from 'skein';
 */
export { type Key, type Task, type Graph, isTask, keyGroup } from './graph/spec.js';
export { getDependencies, getRelations, type Relations } from './graph/compile.js';
export { toposort } from './graph/toposort.js';
export { cull } from './graph/cull.js';
export { optimize, type OptimizeOptions } from './graph/optimize.js';
export { order } from './graph/order.js';
export { Delayed, delayed, isDelayed, type DelayedFunction, type DelayedOptions, type DelayedProxy } from './graph/delayed.js';
export { tokenize } from './graph/tokenize.js';
export { type Callback, registerCallback } from './core/callbacks.js';
export { config, withConfig, type SkeinConfig, type SchedulerName, type SchedulerSpec, SCHEDULERS } from './core/config.js';
export { get, compute, persist, type ComputeOptions, type Computed, type GetFunction } from './schedule.js';
export { SkeinError, TaskError } from './errors.js';
export { createThreadPool, threadWorkerFile } from './schedulers/threads.js';
export { ProcessPool } from './schedulers/processPool.js';
export { closeDefaultPools } from './schedulers/defaultPools.js';
export { Profiler, type TaskProfile } from './diagnostics/profiler.js';
export { ResourceProfiler } from './diagnostics/resources.js';
export { Recorder } from './diagnostics/recorder.js';
export { ProgressBar } from './diagnostics/progress.js';
export { type RunRecord, RECORD_FORMAT, RECORD_VERSION, readRecord, validateRecord } from './diagnostics/record.js';
export { toTrace, type TraceDocument, type TraceEvent } from './diagnostics/trace.js';
export { analyze, formatReport, type Report } from './diagnostics/report.js';
export { type TaskTimings, type TaskStamps, type TransitionTimes, clock, phases } from './core/timings.js';
export { standaloneHtml, graphRecord } from './diagnostics/visualize.js';
