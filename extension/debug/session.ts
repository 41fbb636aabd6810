/**
 * The Skein debug adapter: translates the Debug Adapter Protocol into requests to a runner
 * process in debug mode (runtime/runner/debug.ts), which runs the graph with the synchronous
 * scheduler and a gate before every task. One DAP thread is the scheduler; a stack frame is a
 * task (the paused one on top, then the dependents waiting on it); variables are its inputs,
 * the last result and the graph's state. Step Into hands over to VS Code's JavaScript debugger:
 * the runner listens with the Node inspector, and the adapter asks the client to start a child
 * session attached to it (DAP `startDebugging`) before the task runs.
 *
 * Runs inline in the extension host (DebugAdapterInlineImplementation) and over stdio
 * (dist/debugAdapter.js) for tests. No `vscode` import here.
 */
import * as path from 'node:path';
import {
  ContinuedEvent,
  Breakpoint,
  ExitedEvent,
  InitializedEvent,
  LoggingDebugSession,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugCommand, DebugRequests } from '../../runtime/debug/protocol.js';
import type { FromRunner } from '../../runtime/runner/protocol.js';
import { RunnerClient } from '../runnerClient.js';

/** Launch attributes; mirrors the `skein` debugger's schema in package.json. */
export interface SkeinLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** The graph file to debug. */
  program: string;
  /** Keys to compute (default: the graph's outputs); only what they need runs. */
  keys?: string[];
  /** Pause before the first task. */
  stopOnEntry?: boolean;
  /** Pause at a task that throws, with its inputs and error (default true). */
  breakOnTaskError?: boolean;
  /** Working directory of the runner (default: the graph file's folder). */
  cwd?: string;
  /** Extra environment variables for the runner. */
  env?: Record<string, string>;
  /** Pause before these keys (set by Skein: Debug Task…). */
  stopAtKeys?: string[];
  /** The configured scheduler, only to say that debugging uses sync instead. */
  configuredScheduler?: string;
  /** Megabytes of results kept for Step Back (default: the skein.debug.stepBackMemory setting, 256). */
  stepBackMemory?: number;
}

/** What the host can do beyond DAP (the inline adapter gets these from the extension). */
export interface DebugHost {
  /** Node.js executable for the runner. */
  readonly node: string;
  /** dist/runtime/runner.js */
  readonly runnerFile: string;
  /** Before a Step Into starts the JavaScript debugger: put a one-shot breakpoint at `file:line`. */
  addTemporaryBreakpoint?(file: string, line: number): Promise<() => void>;
  /**
   * Starts VS Code's JavaScript debugger as a child of this session. VS Code answers a DAP
   * `startDebugging` reverse request with a child of the *same* debugger type, so inside VS Code
   * the extension API does this; other clients get the reverse request.
   */
  startJavaScriptDebugger?(configuration: Record<string, unknown>): Promise<boolean>;
  /**
   * The graph panel follows the session: its graph when it starts, its task states as they
   * change, the task it pauses at (inside VS Code; other clients get nothing).
   */
  followInPanel?(message: Extract<FromRunner, { kind: 'graph' | 'transitions' | 'stream' | 'taskError' }> | { readonly kind: 'paused'; readonly key: string }): void;
}

const THREAD_ID = 1;

export class SkeinDebugSession extends LoggingDebugSession {
  #runner: RunnerClient | undefined;
  #nextId = 1;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  // settles once the runner has loaded the graph; breakpoint requests that arrive before
  // launch (VS Code sends them right after `initialized`) wait for it
  #markReady: () => void = () => undefined;
  #markFailed: (e: Error) => void = () => undefined;
  #ready = new Promise<void>((resolve, reject) => {
    this.#markReady = resolve;
    this.#markFailed = reject;
  });
  #configured: () => void = () => undefined;
  #configurationDone = new Promise<void>((resolve) => (this.#configured = resolve));
  #supportsStartDebugging = false;
  #stoppedKey = '';
  #program = '';
  #finished = false;

  constructor(private readonly host: DebugHost) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- runner RPC ------------------------------------------------------------------------

  #call<C extends DebugCommand>(command: C, args: DebugRequests[C]['args']): Promise<DebugRequests[C]['result']> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#runner === undefined) return reject(new Error('The runner is not running.'));
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#runner.send({ kind: 'request', id, command, args });
    });
  }

  #onMessage(m: FromRunner): void {
    if (m.kind === 'response') {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.ok) p?.resolve(m.body);
      else p?.reject(new Error(m.message));
      return;
    }
    if (m.kind === 'graph' || m.kind === 'transitions' || m.kind === 'stream' || m.kind === 'taskError') return this.host.followInPanel?.(m);
    if (m.kind !== 'debugEvent') return; // a run's other messages: a debug runner sends none
    switch (m.event) {
      case 'ready':
        return;
      case 'stopped': {
        const stop = (): void => {
          this.#stoppedKey = m.key;
          this.host.followInPanel?.({ kind: 'paused', key: m.key });
          const e = new StoppedEvent(m.reason, THREAD_ID, m.reason === 'exception' ? m.description : undefined) as DebugProtocol.StoppedEvent;
          e.body.description = m.description;
          e.body.hitBreakpointIds = [...m.hitBreakpointIds];
          e.body.allThreadsStopped = true;
          this.sendEvent(e);
        };
        // after the answer to the request that resumed the run, and its continued event
        if (this.#resuming !== undefined) void this.#resuming.then(stop);
        else stop();
        return;
      }
      case 'output':
        this.sendEvent(new OutputEvent(m.text, m.category));
        return;
      case 'finished':
        this.#finish(m.exitCode);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  #finish(exitCode: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  #fail(response: DebugProtocol.Response, error: unknown, showUser = false): void {
    this.sendErrorResponse(response, { id: 1001, format: error instanceof Error ? error.message : String(error), showUser });
  }

  /** Runs `work` and answers; a failure is the error response (shown to the user with `showUser`: a refusal they should read). */
  async #answer<R extends DebugProtocol.Response>(response: R, work: () => Promise<void>, showUser = false): Promise<void> {
    try {
      await work();
      this.sendResponse(response);
    } catch (error) {
      this.#fail(response, error, showUser);
    }
  }

  // ---- DAP -------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.#supportsStartDebugging = args.supportsStartDebuggingRequest === true;
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true, // breakpoints are set before the first task runs
      supportsFunctionBreakpoints: true, // on task keys, key groups and globs
      supportsConditionalBreakpoints: true, // conditions see the task's inputs
      supportsHitConditionalBreakpoints: true,
      supportsEvaluateForHovers: true, // hover sees inputs, args, result and held keys
      supportsSetVariable: true, // edit what the paused task will receive
      supportsRestartFrame: true, // run a task again once it ran (at its error, at a result breakpoint)
      supportsStepBack: true, // back to before an earlier task: the run replayed up to there
      supportsExceptionInfoRequest: true, // the task error, its stack and type
      supportsTerminateRequest: true,
      supportsSteppingGranularity: false,
      exceptionBreakpointFilters: [{ filter: 'taskError', label: 'Task error', description: 'Pause at a task that throws, with its inputs and the error; Restart Frame runs it again.', default: true }],
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: SkeinLaunchArguments): Promise<void> {
    this.#program = path.resolve(args.program);
    const scheduler = args.configuredScheduler && args.configuredScheduler !== 'sync' ? ` (configured: ${args.configuredScheduler})` : '';
    this.sendEvent(new OutputEvent(`Skein debugs with the synchronous scheduler${scheduler}: tasks run one at a time in the runner process, so breakpoints and stack traces point at your code.\n`, 'console'));
    this.#ready.catch(() => undefined); // a failed launch is reported by launchRequest itself
    this.#runner = RunnerClient.start({
      node: this.host.node,
      runnerFile: this.host.runnerFile,
      execArgv: ['--inspect=127.0.0.1:0'],
      cwd: args.cwd ?? path.dirname(this.#program),
      env: args.env,
      request: { kind: 'debug', file: this.#program, keys: args.keys, stopOnEntry: args.stopOnEntry === true, breakOnTaskError: args.breakOnTaskError !== false, stopAtKeys: args.stopAtKeys, stepBackMemoryMb: args.stepBackMemory },
      onMessage: (m) => {
        if (m.kind === 'debugEvent' && m.event === 'ready') this.#markReady();
        this.#onMessage(m);
      },
      onOutput: (text) => {
        // the inspector announces itself on stderr; the rest is the runner's own output
        const shown = text
          .split('\n')
          .filter((l) => !/^(Debugger listening on|For help, see: https:\/\/nodejs\.org|Debugger attached\.|Waiting for the debugger to disconnect)/.test(l))
          .join('\n');
        if (shown.trim() !== '') this.sendEvent(new OutputEvent(shown.endsWith('\n') ? shown : `${shown}\n`, 'stderr'));
      },
    });
    void this.#runner.exited.then((exit) => {
      for (const p of this.#pending.values()) p.reject(new Error('The runner exited.'));
      this.#pending.clear();
      this.#markFailed(new Error(`The runner exited before the graph loaded (exit code ${exit.code}).`));
      this.#finish(exit.code ?? 1);
    });
    try {
      await this.#ready;
      await this.#configurationDone;
      await this.#call('configurationDone', {});
      this.sendResponse(response);
    } catch (error) {
      this.#fail(response, error);
    }
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.#configured();
    this.sendResponse(response);
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    await this.#answer(response, async () => {
      await this.#ready;
      const file = args.source.path ?? '';
      const results = await this.#call('setLineBreakpoints', {
        file,
        breakpoints: (args.breakpoints ?? []).map((b) => ({ line: b.line, condition: b.condition, hitCondition: b.hitCondition })),
      });
      response.body = {
        breakpoints: results.map((r) => {
          const bp = new Breakpoint(r.verified, r.line) as DebugProtocol.Breakpoint;
          bp.id = r.id;
          if (r.message) bp.message = r.message;
          return bp;
        }),
      };
    });
  }

  protected override async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    await this.#answer(response, async () => {
      await this.#ready;
      const results = await this.#call('setFunctionBreakpoints', { breakpoints: args.breakpoints.map((b) => ({ name: b.name, condition: b.condition, hitCondition: b.hitCondition })) });
      response.body = {
        breakpoints: results.map((r) => {
          const bp = new Breakpoint(r.verified) as DebugProtocol.Breakpoint;
          bp.id = r.id;
          if (r.message) bp.message = r.message;
          return bp;
        }),
      };
    });
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    await this.#answer(response, async () => {
      await this.#ready;
      await this.#call('setExceptionFilters', { taskError: args.filters.includes('taskError') });
    });
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'Skein scheduler (synchronous)')] };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse): Promise<void> {
    await this.#answer(response, async () => {
      const frames = await this.#call('stackTrace', {});
      response.body = {
        stackFrames: frames.map((f) => {
          const frame = new StackFrame(f.id, f.name, f.file ? new Source(path.basename(f.file), f.file) : undefined, f.line, f.column) as DebugProtocol.StackFrame;
          if (f.id !== 1) frame.presentationHint = 'subtle';
          frame.canRestart = f.canRestart === true;
          return frame;
        }),
        totalFrames: frames.length,
      };
    });
  }

  protected override async scopesRequest(response: DebugProtocol.ScopesResponse): Promise<void> {
    await this.#answer(response, async () => {
      const scopes = await this.#call('scopes', {});
      response.body = { scopes: scopes.map((s) => ({ ...new Scope(s.name, s.variablesReference, s.expensive), ...(s.namedVariables !== undefined ? { namedVariables: s.namedVariables } : {}) })) };
    });
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.#answer(response, async () => {
      response.body = { variables: await this.#call('variables', { variablesReference: args.variablesReference, filter: args.filter, start: args.start, count: args.count }) };
    });
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    await this.#answer(response, async () => {
      const v = await this.#call('setVariable', { variablesReference: args.variablesReference, name: args.name, value: args.value });
      response.body = { value: v.value, type: v.type, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables };
    });
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    await this.#answer(response, async () => {
      const v = await this.#call('evaluate', { expression: args.expression });
      response.body = { result: v.value, type: v.type, variablesReference: v.variablesReference, indexedVariables: v.indexedVariables };
    });
  }

  protected override async exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): Promise<void> {
    await this.#answer(response, async () => {
      const info = await this.#call('exceptionInfo', {});
      response.body = {
        exceptionId: info.exceptionId,
        description: info.description,
        breakMode: 'always',
        details: { message: info.message, typeName: info.typeName, stackTrace: info.stackTrace ?? undefined },
      };
    });
  }

  /** `skeinRunTo` { key }: Run to Here, from the graph panel. */
  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    if (command !== 'skeinRunTo') return super.customRequest(command, response, args);
    const key = (args as { key?: unknown } | undefined)?.key;
    let stopping = false;
    // it runs now (the editor shows it running until it stops there); false: it did not move
    await this.#resume(
      response,
      async () => {
        stopping = typeof key === 'string' && (await this.#call('runTo', { key }));
        response.body = { stopping };
      },
      false,
      () => stopping,
    );
  }

  /** Set while a request that resumes the run is answered: the next stop waits for it. */
  #resuming: Promise<void> | undefined;

  /**
   * Answers a request that resumes the run, then says it continued: VS Code keeps the details of
   * every stop since the last continued event and shows the first, so without one the Call Stack
   * kept naming the task where the session first stopped. The next stop goes out after both.
   */
  async #resume(response: DebugProtocol.Response, work: () => Promise<void>, showUser = false, moved: () => boolean = () => true): Promise<void> {
    let done!: () => void;
    const resuming = new Promise<void>((resolve) => (done = resolve));
    this.#resuming = resuming;
    try {
      await work();
      this.sendResponse(response);
      if (moved()) this.sendEvent(new ContinuedEvent(THREAD_ID, true));
    } catch (error) {
      this.#fail(response, error, showUser);
    } finally {
      if (this.#resuming === resuming) this.#resuming = undefined;
      done();
    }
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    await this.#resume(response, () => this.#call('continue', {}));
  }

  protected override async nextRequest(response: DebugProtocol.NextResponse): Promise<void> {
    await this.#resume(response, () => this.#call('next', {}));
  }

  protected override async stepBackRequest(response: DebugProtocol.StepBackResponse): Promise<void> {
    await this.#resume(response, () => this.#call('stepBack', {}), true);
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): Promise<void> {
    await this.#resume(response, () => this.#call('reverseContinue', {}), true);
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse): Promise<void> {
    await this.#resume(response, () => this.#call('stepOut', {}));
  }

  protected override async restartFrameRequest(response: DebugProtocol.RestartFrameResponse): Promise<void> {
    await this.#resume(response, () => this.#call('restartFrame', {}), true);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.#answer(response, () => this.#call('pause', {}));
  }

  /**
   * Step Into: the runner holds the task until the JavaScript debugger is attached to its
   * inspector (a child session the client starts), then runs it; the one-shot breakpoint the
   * host put on the function's first line stops it there.
   */
  protected override async stepInRequest(response: DebugProtocol.StepInResponse): Promise<void> {
    await this.#resume(response, async () => {
      const frames = await this.#call('stackTrace', {});
      const top = frames[0];
      const { port } = await this.#call('stepIn', {});
      void this.#attachJavaScriptDebugger(port, top?.file ?? null, top?.line ?? 0);
    });
  }

  async #attachJavaScriptDebugger(port: number | null, file: string | null, line: number): Promise<void> {
    let removeBreakpoint: (() => void) | undefined;
    try {
      if (port === null || (!this.#supportsStartDebugging && !this.host.startJavaScriptDebugger)) {
        this.sendEvent(new OutputEvent('Step Into needs a client that can start a child debug session (VS Code does); running the task as Step Over.\n', 'console'));
        return;
      }
      if (file !== null && this.host.addTemporaryBreakpoint) removeBreakpoint = await this.host.addTemporaryBreakpoint(file, line);
      const configuration = {
        type: 'node',
        request: 'attach',
        name: `Skein task ${this.#stoppedKey}`,
        address: '127.0.0.1',
        port,
        continueOnAttach: true,
        skipFiles: ['<node_internals>/**', `${path.dirname(this.host.runnerFile)}/**`],
        // the runner loads TypeScript graph files bundled into a temporary folder (inline source
        // maps back to the user's files): their maps are read wherever they are
        resolveSourceMapLocations: null,
      };
      const failed = (why: string): void => this.sendEvent(new OutputEvent(`Step Into could not start the JavaScript debugger: ${why}; running the task as Step Over.\n`, 'console'));
      if (this.host.startJavaScriptDebugger) {
        if (!(await this.host.startJavaScriptDebugger(configuration))) failed('the client refused');
      } else {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 15_000);
          this.sendRequest('startDebugging', { request: 'attach', configuration }, 15_000, (r) => {
            clearTimeout(timer);
            if (!r.success) failed(r.message ?? 'no reason given');
            resolve();
          });
        });
      }
      if (!this.host.startJavaScriptDebugger) await new Promise((r) => setTimeout(r, 500)); // other clients: give the child session time to set breakpoints
    } finally {
      await this.#call('attached', {}).catch(() => undefined);
      if (removeBreakpoint) setTimeout(removeBreakpoint, 5_000);
    }
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    this.#runner?.stop();
    this.sendResponse(response);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.#runner?.stop();
    this.sendResponse(response);
  }
}
