/**
 * `skein/core`: the scheduling core's building blocks, for tools and tests that drive the state
 * machine directly (the debugger, custom executors).
 */
export { type SchedulerState, type Priority, startStateFromGraph, finishTask, releaseData } from './state.js';
export { type Executor, type TaskRun, type TaskOutcome, getAsync } from './local.js';
export { executeTask, substitute } from './execute.js';
export { type ExecutorFactory, type ExecutorLease, registerScheduler } from '../schedule.js';
