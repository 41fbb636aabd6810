/**
 * `skein/core`: the scheduling core's building blocks, for tools and tests that drive the state
 * machine directly (the debugger, custom executors).
 */
export { type SchedulerState, type StateView, TaskStatus, STATUS_NAMES, TRANSITION_NAMES, TransitionLog, LogCursor, startStateFromGraph, startTask, requeueTask, finishTask, failTask, releaseData, checkInvariants, describeState, transitionTimes, taskStamps, StateCounts } from './state.js';
export { type Executor, type TaskRun, type TaskOutcome, getAsync, prepareGraph, stateInputs } from './local.js';
export { executeTask, substitute, mapInputs, MISSING, type Inputs } from './execute.js';
export { type CompiledGraph, compileGraph, dependencyKeys, dependentKeys } from '../graph/compile.js';
export { orderCompiled } from '../graph/order.js';
export type { ExecutorFactory, ExecutorLease } from '../schedulers/lease.js';
