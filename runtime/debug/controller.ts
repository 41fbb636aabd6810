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
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { userStack } from '../cli/stack.js';
import { sizeOf } from '../core/sizeOf.js';
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
type Command = 'continue' | 'next' | 'stepOut' | 'restartFrame' | 'stepIn' | 'rewind';

/**
 * Thrown through the run to end it when the user steps back: the runner starts the run again,
 * and the controller replays it to the point asked for (see `stepBack`).
 */
export class Rewind extends Error {
  constructor() {
    super('stepping back');
  }
}

/** True for a Rewind, or an error the core wrapped around one (a gate's or a task's). */
export function isRewind(error: unknown): boolean {
  return error instanceof Rewind || (error instanceof Error && error.cause instanceof Rewind);
}

/** A task run in this session, in the order they ran: what it returned, while the memory for going back keeps it. */
interface Point {
  readonly t: number;
  value: unknown;
  readonly bytes: number;
}

/** The memory kept for Step Back by default (the `skein.debug.stepBackMemory` setting). */
export const STEP_BACK_BYTES = 256 * 1024 * 1024;

interface Paused {
  readonly t: number;
  readonly reason: 'entry' | 'step' | 'breakpoint' | 'exception' | 'pause' | 'restart' | 'stepBack' | 'reverse';
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
  /** Bytes of results kept for Step Back (default 256 MB); past it the oldest points are dropped. */
  readonly stepBackBytes?: number;
  /** Task `t` ran from `start` to `end` (ms since the epoch): the panel's task stream grows as the session steps. */
  ran?(t: number, start: number, end: number): void;
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
      // a run replayed to a point runs freely up to it
      this.#mode = this.options.stopOnEntry && this.#replay === undefined ? 'step' : 'run';
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
    const replay = this.#replay;
    if (replay !== undefined) {
      // replaying to a point: nothing pauses before it, breakpoints are not counted again
      if (t !== replay.target) return undefined;
      this.#replay = undefined;
      this.#replaying = undefined;
      return this.#pause({ t, reason: replay.reason, args: this.#argsOf(t), isCall: this.#isCall(t) }, []).then((command) => {
        if (command === 'stepIn' && !this.#isCall(t)) this.stepInHook = undefined;
        this.#afterResume(command, t);
      });
    }
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
    const k = JSON.stringify(key);
    const description =
      paused.reason === 'exception'
        ? `Task ${k} failed: ${paused.error instanceof Error ? paused.error.message : String(paused.error)}`
        : paused.reason === 'entry'
          ? `Paused before the first task, ${k}`
          : paused.result !== undefined
            ? `Paused after task ${k}: its result meets a breakpoint's condition`
            : paused.reason === 'stepBack'
              ? `Paused before task ${k} (stepped back)`
              : paused.reason === 'reverse'
                ? `Paused before task ${k} (reverse continue)`
                : `Paused before task ${k}`;
    if (paused.reason === 'breakpoint' || paused.reason === 'exception') {
      const at = this.#history.length;
      if (this.#hitPoints.at(-1) !== at) this.#hitPoints.push(at);
    }
    const promise = new Promise<Command>((resolve) => (this.#resume = resolve));
    const reason = paused.reason === 'restart' || paused.reason === 'stepBack' ? 'step' : paused.reason === 'reverse' ? 'breakpoint' : paused.reason;
    // events go out after the response to whatever request resumed us (DAP ordering)
    setImmediate(() => this.options.send({ event: 'stopped', reason, key, description, hitBreakpointIds: hit }));
    return promise;
  }

  // ---- Step Back ------------------------------------------------------------------------

  /** The tasks run so far in this run, in order (Step Back replays them); `#dropped` of them lost their values to the memory cap. */
  #history: Point[] = [];
  #dropped = 0;
  #keptBytes = 0;
  /** History positions where a breakpoint (or a task error) paused: Reverse Continue goes back to them. */
  #hitPoints: number[] = [];
  /** Set while a run is replayed to a point: the task to pause before, and why. */
  #replay: { readonly target: number; readonly reason: 'stepBack' | 'reverse' } | undefined;
  /** The values replayed (by task) while #replay is set; a task not among them runs again. */
  #replaying: Map<number, unknown> | undefined;

  /** Keeps what task `t` returned for Step Back, dropping the oldest values past the memory cap. */
  #remember(t: number, value: unknown): void {
    const bytes = sizeOf(value);
    this.#history.push({ t, value, bytes });
    this.#keptBytes += bytes;
    const cap = this.options.stepBackBytes ?? STEP_BACK_BYTES;
    while (this.#keptBytes > cap && this.#dropped < this.#history.length - 1) {
      const old = this.#history[this.#dropped++]!;
      this.#keptBytes -= old.bytes;
      old.value = undefined;
    }
  }

  /**
   * Step Back (`reverse` false): back to just before the task that ran last (the paused task
   * itself when it has run: a task error, a result breakpoint). Reverse Continue (`reverse`):
   * back to the latest breakpoint or task-error stop before the paused task, or to the first
   * task. The run is ended and run again, replaying the results kept so far up to that point
   * (tasks are pure: what ran after it will run again). Throws, saying how far back it can go,
   * when the point is not kept.
   */
  stepBack(reverse: boolean): void {
    const paused = this.#paused;
    const st = this.#state;
    if (paused === undefined || st === undefined || this.#resume === undefined) throw new Error('The run is not paused.');
    const pos = this.#history.length;
    const ran = paused.result !== undefined || paused.reason === 'exception';
    const target = reverse ? ([...this.#hitPoints].reverse().find((p) => p < pos) ?? 0) : ran ? pos : pos - 1;
    if (target < 0) throw new Error(`Step Back: ${JSON.stringify(st.graph.keys[paused.t])} is the first task of the run; there is nothing before it.`);
    if (target < this.#dropped) {
      const earliest = this.#dropped < pos ? st.graph.keys[this.#history[this.#dropped]!.t]! : st.graph.keys[paused.t]!;
      const mb = Math.round((this.options.stepBackBytes ?? STEP_BACK_BYTES) / 1048576);
      throw new Error(
        `Step Back cannot go back further than just before ${JSON.stringify(earliest)}: the results kept for going back are capped at ${mb} MB (the skein.debug.stepBackMemory setting), and older ones were dropped. Raise the setting to keep more.`,
      );
    }
    const targetTask = target < pos ? this.#history[target]!.t : paused.t;
    this.#replaying = new Map(this.#history.slice(0, target).map((p) => [p.t, p.value] as const));
    // values dropped by the cap (before #dropped) are not replayed: those tasks run again
    for (let i = 0; i < Math.min(this.#dropped, target); i++) this.#replaying.delete(this.#history[i]!.t);
    for (const p of this.#history.slice(target)) this.#keptBytes -= p.bytes;
    this.#history = this.#history.slice(0, target);
    this.#dropped = Math.min(this.#dropped, target);
    this.#hitPoints = this.#hitPoints.filter((p) => p < target);
    this.#replay = { target: targetTask, reason: reverse ? 'reverse' : 'stepBack' };
    this.#overrides.clear();
    this.resume('rewind');
  }

  /** True while a run is replayed to a point (the runner starts it again after a Rewind). */
  get rewinding(): boolean {
    return this.#replay !== undefined;
  }

  #afterResume(command: Command, t: number): void {
    this.#paused = undefined;
    this.#handles.reset();
    if (command === 'rewind') throw new Rewind();
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
    const replayed = this.#replaying;
    if (replayed !== undefined && replayed.has(t)) return replayed.get(t);
    for (;;) {
      const args = this.#overrides.get(t);
      // a task run again while replaying to a point (its value was dropped) prints nothing
      this.#current = replayed === undefined ? key : undefined;
      try {
        if (this.stepInHook !== undefined) {
          const hook = this.stepInHook;
          this.stepInHook = undefined;
          await hook();
        }
        let value: unknown;
        const fn = taskFunction(task) as ((...a: unknown[]) => unknown) | undefined;
        const start = Date.now();
        if (args === undefined) value = executeTask(task, stateInputs(state));
        else if (fn !== undefined) value = fn(...args);
        else value = args[0];
        if (isThenable(value)) value = await value;
        this.options.ran?.(t, start, Date.now());
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
        // a task run again while replaying (its value was dropped) is in the history already
        if (replayed === undefined) this.#remember(t, value);
        return value;
      } catch (error) {
        if (error instanceof Rewind || !this.options.breakOnTaskError) throw error;
        // the pause shows the user's frames; the whole stack goes to the debug console
        if (error instanceof Error && error.stack !== undefined) this.options.send({ event: 'output', category: 'stderr', text: `Task ${JSON.stringify(key)} failed:\n${error.stack}\n` });
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
    const paused = this.#paused;
    if (command === 'restartFrame' && paused !== undefined && !this.#canRestart(paused)) {
      throw new Error(`Restart Frame runs a task again after it ran (at its error, or at a result breakpoint); ${JSON.stringify(this.#state!.graph.keys[paused.t])} has not run yet: Step Over runs it.`);
    }
    this.#resume = undefined;
    resume(command);
  }

  /** Whether the paused task has run (so Restart Frame can run it again). */
  #canRestart(paused: Paused): boolean {
    return paused.reason === 'exception' || paused.result !== undefined;
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

  /** Resolves once the graph file's definitions are read (prepare), for line breakpoints and frames. */
  get sourcesReady(): Promise<void> {
    return this.#sources?.ready ?? Promise.resolve();
  }

  /** Line breakpoints, once the graph file's definitions are read (prepare). */
  async setLineBreakpoints(file: string, specs: readonly LineBreakpointSpec[]): Promise<BreakpointResult[]> {
    await this.#sources?.ready;
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
        // at a task error, the paused frame is where it threw (the first frame in user code)
        const threw = i === 0 && paused.reason === 'exception' ? throwingFrame(paused.error) : undefined;
        return { id: i + 1, key, name: i === 0 ? `${key} (${fn})` : `${key} (${fn}, waiting)`, file: threw?.file ?? where.file, line: threw?.line ?? where.line, column: threw?.column ?? 1, canRestart: i === 0 && this.#canRestart(paused) };
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
        stackTrace: e.stack === undefined ? null : userFramesOf(e.stack),
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

/** The user's frames of a stack (Skein's and Node's left out), saying how many were left out. */
export function userFramesOf(stack: string): string {
  const kept = userStack(stack);
  const hidden = stack.split('\n').length - kept.split('\n').length;
  return hidden === 0 ? kept : `${kept}\n    (${hidden} frame${hidden === 1 ? '' : 's'} of Skein and Node hidden; the whole stack is in the Debug Console)`;
}

/** Where `error` was thrown in the user's code: the first frame of its stack that is not Skein's or Node's. */
export function throwingFrame(error: unknown): { file: string; line: number; column: number } | undefined {
  if (!(error instanceof Error) || error.stack === undefined) return undefined;
  for (const frame of userStack(error.stack).split('\n')) {
    const m = /\(?((?:file:\/\/)?\/[^()\s]+?):(\d+):(\d+)\)?$/.exec(frame.trim());
    if (m === null || !frame.trimStart().startsWith('at ')) continue;
    const file = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** One-line text of a value for the debug console. */
export function consoleText(value: unknown): string {
  return inspect(value, { depth: 4, maxArrayLength: 20, breakLength: 100 });
}
