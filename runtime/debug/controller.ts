/**
 * The debugger inside a runner: runs a graph with the synchronous scheduler (forced) and a gate
 * before every task, so the adapter can pause, inspect and resume the scheduling loop. This file
 * holds the gate and the stepping; the rest of the debugger, each job in its file:
 *
 * - breakpointSet.ts: breakpoints resolved to task numbers when they are set, indexed by task;
 * - evaluate.ts: console, watch and condition expressions against the paused task;
 * - scopes.ts: the Task, Last result and Graph scopes of the Variables view (variables.ts turns
 *   values into variables, lazily);
 * - the executor is the sync scheduler's (schedulers/sync.ts), each task run through `#execute`:
 *   the paused task's inputs can be edited, a task error pauses before the run fails, and a task
 *   can be run again (Restart Frame).
 *
 * Nothing per step is proportional to the graph's size: breakpoints are resolved when they are
 * set, state counts come from the scheduler's own lists, values become variables only on demand.
 */
import { inspect } from 'node:util';
import type { Callback } from '../core/callbacks.js';
import { executeTask, isThenable, substitute } from '../core/execute.js';
import { type Executor, stateInputs } from '../core/local.js';
import { syncExecutor } from '../schedulers/sync.js';
import { type SchedulerState, StateCounts, TaskStatus } from '../core/state.js';
import { keyGroup, taskFunction } from '../graph/spec.js';
import { describeFunction } from '../loader/locate.js';
import { SourceIndex, hitConditionMet } from './breakpoints.js';
import { BreakpointSet } from './breakpointSet.js';
import { type EvaluationContext, conditionHolds, evaluateExpression, isResultCondition } from './evaluate.js';
import type { BreakpointResult, DebugEvent, DebugRequests, FrameInfo, FunctionBreakpointSpec, LineBreakpointSpec, VariableInfo } from './protocol.js';
import { Handles, children, variable } from './variables.js';
import { graphScope, inputIndex, lastResultScope, taskScope } from './scopes.js';

type Mode = 'run' | 'step' | 'stepOut';

/** The requests `handle` answers; the others (stepping, breakpoints, pause) have methods of their own. */
type HandledCommand = 'stackTrace' | 'scopes' | 'variables' | 'setVariable' | 'evaluate' | 'exceptionInfo' | 'taskKeys';
type Handled = { readonly [C in HandledCommand]: (args: DebugRequests[C]['args']) => DebugRequests[C]['result'] };
type Command = 'continue' | 'next' | 'stepOut' | 'restartFrame' | 'stepIn';

interface Paused {
  readonly t: number;
  readonly reason: 'entry' | 'step' | 'breakpoint' | 'exception' | 'pause' | 'restart';
  /** The arguments the task's function will receive (edits apply here). */
  args: unknown[];
  /** For aliases and values that only mention other keys: the value the task evaluates to. */
  readonly isCall: boolean;
  readonly error?: unknown;
  /** Paused after the task ran, on a result breakpoint: what it returned. */
  readonly result?: { readonly value: unknown };
}

export interface ControllerOptions {
  readonly graphFile: string;
  readonly stopOnEntry: boolean;
  breakOnTaskError: boolean;
  send(event: DebugEvent): void;
}

export class DebugController {
  #state: SchedulerState | undefined;
  #sources: SourceIndex | undefined;
  #mode: Mode = 'run';
  #first = true;
  #paused: Paused | undefined;
  #resume: ((command: Command) => void) | undefined;
  #stepOutTarget = -1;
  #last: { key: string; value: unknown } | undefined;
  /** Tasks per state, from the core's transition log. */
  #counts: StateCounts | undefined;
  readonly #breakpoints = new BreakpointSet();
  #overrides = new Map<number, unknown[]>();
  readonly #handles = new Handles();
  #current: string | undefined;
  #pauseRequested = false;
  /** Set while a Step Into is pending: the runner waits for the JavaScript debugger to attach. */
  stepInHook: (() => Promise<void>) | undefined;

  constructor(private readonly options: ControllerOptions) {}

  set breakOnTaskError(on: boolean) {
    this.options.breakOnTaskError = on;
  }

  /** Keys to pause before no matter what (Skein: Debug Task… stops before the chosen key). */
  stopAt(keys: readonly string[]): void {
    const g = this.#graph;
    if (!g) return;
    this.#stopAt = new Set(keys.map((k) => g.index.get(k)).filter((t): t is number => t !== undefined));
  }

  #stopAt = new Set<number>();

  /** Run to Here: pause before `key` (once), and resume now if paused; false if it cannot stop there. */
  runTo(key: string): boolean {
    const st = this.#state;
    const t = st?.graph.index.get(key);
    if (st === undefined || t === undefined || (st.status[t] !== TaskStatus.waiting && st.status[t] !== TaskStatus.ready)) return false;
    this.#runTo = t;
    if (this.#resume !== undefined) this.resume('continue');
    return true;
  }

  #runTo: number | undefined;

  /** The task key running right now (for prefixing console output). */
  get currentKey(): string | undefined {
    return this.#current;
  }

  get state(): SchedulerState | undefined {
    return this.#state;
  }

  /** Resolves breakpoints against the graph before the run starts (same numbering as the run). */
  prepare(graph: import('../graph/compile.js').CompiledGraph): void {
    this.#graph = graph;
    this.#sources = new SourceIndex(graph, this.options.graphFile);
  }

  #graph: import('../graph/compile.js').CompiledGraph | undefined;

  /** The callback that gates the scheduling loop. */
  readonly callback: Callback = {
    transitions: true,
    startState: (_dsk, state) => {
      this.#state = state;
      this.#sources ??= new SourceIndex(state.graph, this.options.graphFile);
      this.#counts = new StateCounts(state.graph.size);
      this.#mode = this.options.stopOnEntry ? 'step' : 'run';
    },
    pretask: (key) => this.#gate(key),
    posttask: (key, result) => {
      this.#last = { key, value: result };
      const t = this.#state!.graph.index.get(key)!;
      if (this.#mode === 'stepOut' && t === this.#stepOutTarget) this.#mode = 'step';
    },
  };

  // ---- the gate -------------------------------------------------------------------------

  #gate(key: string): Promise<void> | undefined {
    const st = this.#state!;
    const t = st.graph.index.get(key)!;
    const entry = this.#first && this.options.stopOnEntry;
    this.#first = false;
    let reason: Paused['reason'] | undefined = entry ? 'entry' : this.#mode === 'step' ? 'step' : this.#stopAt.has(t) || this.#runTo === t ? 'breakpoint' : undefined;
    if (this.#runTo === t) this.#runTo = undefined;
    if (this.#pauseRequested) {
      this.#pauseRequested = false;
      reason = 'pause';
    }
    const hit: number[] = [];
    const bps = this.#breakpoints.forTask(t);
    // inputs are computed once (nested tasks in the arguments run here); if that throws, no
    // pause: the task runs and meets the same error, where break-on-error handles it
    let args: unknown[] | undefined;
    if (bps !== undefined || reason !== undefined) {
      try {
        args = this.#argsOf(t);
      } catch {
        return undefined;
      }
    }
    if (bps !== undefined) {
      for (const bp of bps) {
        if (isResultCondition(bp.condition)) continue; // checked after the task ran (#resultHits)
        if (bp.condition && !conditionHolds(bp.condition, this.#context(t, args))) continue;
        bp.hits++;
        if (hitConditionMet(bp.hitCondition, bp.hits)) hit.push(bp.id);
      }
      if (hit.length > 0 && reason === undefined) reason = 'breakpoint';
    }
    if (reason === undefined) return undefined;
    return this.#pause({ t, reason, args: args!, isCall: this.#isCall(t) }, hit).then((command) => {
      // Step Into on an alias or a list of keys: nothing to step into, and no executor will use the hook
      if (command === 'stepIn' && !this.#isCall(t)) this.stepInHook = undefined;
      this.#afterResume(command, t);
    });
  }

  #isCall(t: number): boolean {
    return taskFunction(this.#state!.graph.values[t]) !== undefined;
  }

  /** The arguments task `t` will be called with (its inputs substituted), or [value] for non-calls. */
  #argsOf(t: number): unknown[] {
    const override = this.#overrides.get(t);
    if (override !== undefined) return override;
    const st = this.#state!;
    const v = st.graph.values[t];
    const inputs = stateInputs(st);
    if (taskFunction(v) !== undefined) return (v as unknown[]).slice(1).map((a) => substitute(a, inputs));
    return [substitute(v, inputs)];
  }

  #pause(paused: Paused, hit: readonly number[]): Promise<Command> {
    this.#paused = paused;
    this.#overrides.set(paused.t, paused.args);
    this.#handles.reset();
    const key = this.#state!.graph.keys[paused.t]!;
    const description =
      paused.reason === 'exception'
        ? `Task ${JSON.stringify(key)} failed: ${paused.error instanceof Error ? paused.error.message : String(paused.error)}`
        : paused.reason === 'entry'
          ? `Paused before the first task, ${JSON.stringify(key)}`
          : paused.result !== undefined
            ? `Paused after task ${JSON.stringify(key)}: its result meets a breakpoint's condition`
            : `Paused before task ${JSON.stringify(key)}`;
    const promise = new Promise<Command>((resolve) => (this.#resume = resolve));
    // events go out after the response to whatever request resumed us (DAP ordering)
    setImmediate(() => this.options.send({ event: 'stopped', reason: paused.reason === 'restart' ? 'step' : paused.reason, key, description, hitBreakpointIds: hit }));
    return promise;
  }

  #afterResume(command: Command, t: number): void {
    this.#paused = undefined;
    this.#handles.reset();
    if (command === 'continue') this.#mode = 'run';
    else if (command === 'next' || command === 'stepIn') this.#mode = 'step';
    else if (command === 'stepOut') {
      this.#stepOutTarget = this.#requestedAbove(t);
      this.#mode = this.#stepOutTarget === t ? 'step' : 'stepOut';
    }
  }

  /** The requested key whose subtree `t` belongs to (the bottom of the stack). */
  #requestedAbove(t: number): number {
    const chain = this.#dependentChain(t);
    return chain[chain.length - 1]!;
  }

  /** `t`, then the dependents waiting on it, up to a requested key (at most 64 frames). */
  #dependentChain(t: number): number[] {
    const { graph, isResult } = this.#state!;
    const chain = [t];
    let current = t;
    while (chain.length < 64 && isResult[current] === 0) {
      const start = graph.dependentStart[current]!;
      if (graph.dependentStart[current + 1]! === start) break;
      current = graph.dependents[start]!;
      chain.push(current);
    }
    return chain;
  }

  // ---- the executor --------------------------------------------------------------------

  /** The sync scheduler's executor, each task run through the debugger (edited inputs, pause on error, re-run). */
  executor(): Executor {
    return syncExecutor(null, (t, task, state) => this.#execute(t, task, state));
  }

  async #execute(t: number, task: unknown, state: SchedulerState): Promise<unknown> {
    const key = state.graph.keys[t]!;
    for (;;) {
      const args = this.#overrides.get(t);
      this.#current = key;
      try {
        if (this.stepInHook !== undefined) {
          const hook = this.stepInHook;
          this.stepInHook = undefined;
          await hook();
        }
        let value: unknown;
        const fn = taskFunction(task) as ((...a: unknown[]) => unknown) | undefined;
        if (args === undefined) value = executeTask(task, stateInputs(state));
        else if (fn !== undefined) value = fn(...args);
        else value = args[0];
        if (isThenable(value)) value = await value;
        // result breakpoints: after the task ran, before any dependent runs
        const hits = this.#resultHits(t, args, value);
        if (hits.length > 0) {
          const command = await this.#pause({ t, reason: 'breakpoint', args: args ?? this.#argsOf(t), isCall: this.#isCall(t), result: { value } }, hits);
          if (command === 'restartFrame') {
            // run it again: pause before it first, so its inputs can be edited
            const again = await this.#pause({ t, reason: 'restart', args: this.#overrides.get(t) ?? this.#argsOf(t), isCall: this.#isCall(t) }, []);
            this.#afterResume(again === 'restartFrame' ? 'next' : again, t);
            continue;
          }
          this.#afterResume(command, t);
        }
        this.#overrides.delete(t);
        return value;
      } catch (error) {
        if (!this.options.breakOnTaskError) throw error;
        const command = await this.#pause({ t, reason: 'exception', args: args ?? this.#argsOf(t), isCall: this.#isCall(t), error }, []);
        if (command !== 'restartFrame') {
          this.#afterResume(command, t);
          throw error;
        }
        // restart: pause before the task again, so its inputs can be edited, then run it again
        const again = await this.#pause({ t, reason: 'restart', args: this.#overrides.get(t) ?? this.#argsOf(t), isCall: this.#isCall(t) }, []);
        this.#afterResume(again === 'restartFrame' ? 'next' : again, t);
      } finally {
        this.#current = undefined;
      }
    }
  }

  /** The result breakpoints of task `t` that its result `value` meets (each one's hit counted). */
  #resultHits(t: number, args: unknown[] | undefined, value: unknown): number[] {
    const bps = this.#breakpoints.forTask(t);
    if (bps === undefined) return [];
    const hit: number[] = [];
    for (const bp of bps) {
      if (!isResultCondition(bp.condition)) continue;
      if (!conditionHolds(bp.condition!, this.#context(t, args ?? this.#argsOf(t), { value }))) continue;
      bp.hits++;
      if (hitConditionMet(bp.hitCondition, bp.hits)) hit.push(bp.id);
    }
    return hit;
  }

  // ---- requests ------------------------------------------------------------------------

  /** Resumes a paused run. */
  resume(command: Command): void {
    const resume = this.#resume;
    if (resume === undefined) throw new Error('The run is not paused.');
    this.#resume = undefined;
    resume(command);
  }

  get paused(): boolean {
    return this.#paused !== undefined;
  }

  requestPause(): void {
    this.#pauseRequested = true;
  }

  setFunctionBreakpoints(specs: readonly FunctionBreakpointSpec[]): BreakpointResult[] {
    return this.#breakpoints.setFunctions(specs, this.#state?.graph ?? this.#graph);
  }

  setLineBreakpoints(file: string, specs: readonly LineBreakpointSpec[]): BreakpointResult[] {
    return this.#breakpoints.setLines(file, specs, this.#sources);
  }

  /** The held result of `key`, or undefined. */
  #held(key: string): { value: unknown } | undefined {
    const st = this.#state!;
    const t = st.graph.index.get(key);
    return t !== undefined && st.status[t] === TaskStatus.memory ? { value: st.cache[t] } : undefined;
  }

  /** What an expression about task `t` (paused with `args`) can see. */
  #context(t: number | undefined, args: unknown[] | undefined, own = this.#paused?.t === t ? this.#paused?.result : undefined): EvaluationContext {
    const v = t === undefined ? undefined : this.#state!.graph.values[t];
    return {
      fn: taskFunction(v),
      args: t === undefined ? undefined : args,
      last: this.#last?.value,
      own,
      held: (key) => this.#held(key),
    };
  }

  #evaluate(expression: string, t: number | undefined, args: unknown[] | undefined): unknown {
    return evaluateExpression(expression, this.#context(t, args));
  }

  /** Answers a request from the adapter (the commands that read or change what is paused). */
  handle<C extends keyof Handled>(command: C, args: DebugRequests[C]['args']): DebugRequests[C]['result'] {
    const handler = this.#handlers[command] as (a: DebugRequests[C]['args']) => DebugRequests[C]['result'];
    return handler(args);
  }

  /** One handler per request, typed by the protocol: what each takes and gives. */
  readonly #handlers: Handled = {
    stackTrace: () => {
      const st = this.#state;
      const paused = this.#paused;
      if (!paused || !st) return [];
      return this.#dependentChain(paused.t).map((t, i): FrameInfo => {
        const where = this.#sources!.locate(t);
        const key = st.graph.keys[t]!;
        const called = taskFunction(st.graph.values[t]);
        const fn = called === undefined ? 'value' : describeFunction(called);
        return { id: i + 1, key, name: i === 0 ? `${key} (${fn})` : `${key} (${fn}, waiting)`, file: where.file, line: where.line, column: 1 };
      });
    },
    scopes: () => {
      const paused = this.#paused;
      if (!paused || !this.#state) return [];
      return [
        { name: 'Task', variablesReference: this.#handles.add({ kind: 'lazy', items: () => this.#taskVariables(paused) }), expensive: false },
        { name: 'Last result', variablesReference: this.#handles.add({ kind: 'lazy', items: () => this.#lastResultVariables() }), expensive: false },
        { name: 'Graph', variablesReference: this.#handles.add({ kind: 'lazy', items: () => this.#graphVariables() }), expensive: true },
      ];
    },
    variables: (a) => {
      const container = this.#handles.get(a.variablesReference);
      return container ? children(this.#handles, container, a.filter, a.start, a.count) : [];
    },
    setVariable: (a) => {
      const paused = this.#paused;
      if (!paused) throw new Error('The run is not paused.');
      const container = this.#handles.get(a.variablesReference);
      const value = this.#evaluate(a.value, paused.t, paused.args);
      if (container?.kind === 'lazy' && a.variablesReference === this.#inputsRef) {
        const i = this.#inputIndex(paused, a.name);
        if (i < 0) throw new Error(`${a.name} is not an input of this task.`);
        paused.args[i] = value;
        this.#overrides.set(paused.t, paused.args);
      } else if (container?.kind === 'value' && container.value !== null && typeof container.value === 'object') {
        const target = container.value as Record<string, unknown>;
        if (target instanceof Map) target.set(a.name, value);
        else target[a.name] = value;
      } else throw new Error('Only the task inputs and the objects inside them can be changed.');
      return variable(this.#handles, a.name, value);
    },
    evaluate: (a) => {
      const paused = this.#paused;
      const value = this.#evaluate(a.expression, paused?.t, paused?.args);
      return variable(this.#handles, a.expression, value, a.expression);
    },
    exceptionInfo: () => {
      const paused = this.#paused;
      const error = paused?.error;
      if (!paused || error === undefined) throw new Error('The run is not paused on a task error.');
      const e = error instanceof Error ? error : new Error(String(error));
      return {
        exceptionId: e.name,
        description: `Task ${JSON.stringify(this.#state!.graph.keys[paused.t])} failed: ${e.message}`,
        typeName: e.constructor?.name ?? 'Error',
        message: e.message,
        stackTrace: e.stack ?? null,
      };
    },
    taskKeys: () => {
      const g = this.#state?.graph ?? this.#graph;
      if (!g) return [];
      const out = [];
      for (let t = 0; t < g.size; t++) out.push({ key: g.keys[t]!, group: keyGroup(g.keys[t]!), dependencies: g.depStart[t + 1]! - g.depStart[t]! });
      return out;
    },
  };

  #inputsRef = -1;

  #inputIndex(paused: Paused, name: string): number {
    return inputIndex(this.#state!.graph, paused, name);
  }

  #taskVariables(paused: Paused): VariableInfo[] {
    const scope = taskScope(this.#state!, paused, this.#handles);
    this.#inputsRef = scope.inputsRef;
    return scope.variables;
  }

  #lastResultVariables(): VariableInfo[] {
    return lastResultScope(this.#last, this.#handles);
  }

  #graphVariables(): VariableInfo[] {
    return graphScope(this.#state!, this.#counts!.update(this.#state!.log), this.#paused?.error !== undefined, this.#handles);
  }
}

/** One-line text of a value for the debug console. */
export function consoleText(value: unknown): string {
  return inspect(value, { depth: 4, maxArrayLength: 20, breakLength: 100 });
}
