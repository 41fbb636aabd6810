/**
 * The debug conversation between the debug adapter (extension side) and a runner started in
 * debug mode. Type-only. The adapter sends requests (`command` + `args`, with an `id`); the runner
 * answers each with a response carrying the same `id`, and sends events when the run pauses,
 * prints, or ends. The shapes follow DAP's closely so the adapter only translates.
 */

export interface DebugLaunch {
  readonly kind: 'debug';
  readonly file: string;
  /** Keys to compute; default: the graph's outputs. */
  readonly keys?: readonly string[];
  readonly stopOnEntry: boolean;
  readonly breakOnTaskError: boolean;
  /** Pause before these keys whatever the breakpoints say (Skein: Debug Task…). */
  readonly stopAtKeys?: readonly string[];
  /** Megabytes of results kept for Step Back (`skein.debug.stepBackMemory`; default 256). */
  readonly stepBackMemoryMb?: number;
}

export interface FunctionBreakpointSpec {
  /** A key, or a glob over keys (`clean-*`), or a key group name. */
  readonly name: string;
  readonly condition?: string;
  readonly hitCondition?: string;
}

export interface LineBreakpointSpec {
  readonly line: number;
  readonly condition?: string;
  readonly hitCondition?: string;
}

export interface BreakpointResult {
  readonly id: number;
  readonly verified: boolean;
  readonly message?: string;
  readonly line?: number;
}

export interface FrameInfo {
  readonly id: number;
  readonly name: string;
  readonly key: string;
  readonly file: string | null;
  readonly line: number;
  readonly column: number;
  /** Restart Frame can run this task again (it has run: a task error, a result breakpoint). */
  readonly canRestart?: boolean;
}

export interface VariableInfo {
  readonly name: string;
  readonly value: string;
  readonly type?: string;
  readonly variablesReference: number;
  readonly indexedVariables?: number;
  readonly namedVariables?: number;
  readonly evaluateName?: string;
}

export interface DebugRequests {
  configurationDone: { args: { stopOnEntry?: boolean }; result: void };
  setFunctionBreakpoints: { args: { breakpoints: FunctionBreakpointSpec[] }; result: BreakpointResult[] };
  setLineBreakpoints: { args: { file: string; breakpoints: LineBreakpointSpec[] }; result: BreakpointResult[] };
  setExceptionFilters: { args: { taskError: boolean }; result: void };
  continue: { args: Record<string, never>; result: void };
  next: { args: Record<string, never>; result: void };
  stepOut: { args: Record<string, never>; result: void };
  /** Step Into: answers the runner's inspector port; the task runs once `attached` arrives. */
  stepIn: { args: Record<string, never>; result: { inspectorUrl: string | null; port: number | null } };
  /** The JavaScript debugger has attached (or will not): run the task Step Into held. */
  attached: { args: Record<string, never>; result: void };
  restartFrame: { args: Record<string, never>; result: void };
  /** Step Back: to just before the task that ran last (the run replayed up to there). */
  stepBack: { args: Record<string, never>; result: void };
  /** Reverse Continue: back to the latest breakpoint stop before the paused task, or to the first task. */
  reverseContinue: { args: Record<string, never>; result: void };
  /** Run to Here: continue until just before `key` (answers false when it has run already or is not in the run). */
  runTo: { args: { key: string }; result: boolean };
  pause: { args: Record<string, never>; result: void };
  stackTrace: { args: Record<string, never>; result: FrameInfo[] };
  scopes: { args: Record<string, never>; result: Array<{ name: string; variablesReference: number; namedVariables?: number; expensive: boolean }> };
  variables: { args: { variablesReference: number; filter?: 'indexed' | 'named'; start?: number; count?: number }; result: VariableInfo[] };
  setVariable: { args: { variablesReference: number; name: string; value: string }; result: VariableInfo };
  evaluate: { args: { expression: string }; result: VariableInfo };
  exceptionInfo: { args: Record<string, never>; result: { exceptionId: string; description: string; typeName: string; message: string; stackTrace: string | null } };
  taskKeys: { args: Record<string, never>; result: Array<{ key: string; group: string; dependencies: number }> };
  terminate: { args: Record<string, never>; result: void };
}

export type DebugCommand = keyof DebugRequests;

/** A debugger request (the session → the runner); answered by a `response` (runner/protocol.ts). */
export type DebugRequest = { readonly kind: 'request'; readonly id: number; readonly command: DebugCommand; readonly args: unknown };

export type DebugEvent =
  | { readonly event: 'ready'; readonly tasks: number; readonly keys: readonly string[]; readonly inspectorPort: number | null }
  | { readonly event: 'stopped'; readonly reason: 'entry' | 'step' | 'breakpoint' | 'exception' | 'pause'; readonly key: string; readonly description: string; readonly hitBreakpointIds: readonly number[] }
  | { readonly event: 'output'; readonly category: 'console' | 'stdout' | 'stderr'; readonly text: string }
  | { readonly event: 'finished'; readonly exitCode: number };


