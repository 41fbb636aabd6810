/**
 * A runner in debug mode: loads the graph, answers the adapter's requests through a
 * DebugController, and runs the graph with the synchronous scheduler (forced) once the
 * adapter says the configuration is done. Everything the run prints goes to the debug console,
 * prefixed with the key of the task that printed it.
 */
import inspector from 'node:inspector';
import { getAsync, prepareGraph } from '../core/local.js';
import { Errors, TaskError } from '../errors.js';
import { DebugController, consoleText, isRewind } from '../debug/controller.js';
import type { DebugCommand, DebugEvent, DebugLaunch, DebugRequests } from '../debug/protocol.js';
import type { FromRunner, ToRunner } from './protocol.js';
import { graphRecord } from '../diagnostics/visualize.js';
import { liveTransitions } from './live.js';
import { loadGraphFile } from '../loader/loadGraph.js';
import { userStack } from '../cli/stack.js';
import { TaskStatus } from '../core/state.js';
import { STATE_CODES } from '../core/taskStates.js';

function post(message: FromRunner): void {
  process.send?.(message);
}

function event(e: DebugEvent): void {
  post({ kind: 'debugEvent', ...e });
}

/** Sends what the process prints to the debug console, each line prefixed with the running task's key. */
function captureOutput(controller: DebugController): void {
  for (const [stream, category] of [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
  ] as const) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const key = controller.currentKey;
      const prefixed = key === undefined ? text : text.replace(/^(?=.)/gm, `[${key}] `);
      event({ event: 'output', category, text: prefixed });
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
}

export async function runDebug(launch: DebugLaunch): Promise<void> {
  // without module hooks: on Node 20 they run on a thread that Step Into's JavaScript debugger would list as "[worker 1]"
  const loaded = await loadGraphFile(launch.file, { withoutHooks: true });
  const keys = launch.keys && launch.keys.length > 0 ? [...launch.keys] : [...loaded.keys];
  for (const k of keys) if (!loaded.graph.has(k)) throw Errors.missingKey(k, loaded.graph.keys());
  const { graph } = prepareGraph(loaded.graph, keys);
  const live = liveTransitions(() => graph.size, post);
  const controller = new DebugController({
    graphFile: loaded.file,
    stopOnEntry: launch.stopOnEntry,
    breakOnTaskError: launch.breakOnTaskError,
    stepBackBytes: launch.stepBackMemoryMb === undefined ? undefined : launch.stepBackMemoryMb * 1024 * 1024,
    send: (e) => {
      // a task-error pause: the panel shows the task failed (red) while the session holds it there
      if (e.event === 'stopped' && e.reason === 'exception') {
        const t = graph.index.get(e.key);
        // after the states logged so far (its start among them), or they would paint over it
        live.flush();
        if (t !== undefined) post({ kind: 'transitions', tasks: [t], states: STATE_CODES[TaskStatus.erred]!, done: controller.state?.finished.length ?? 0, total: graph.size });
        post({ kind: 'taskError', key: e.key, message: e.description });
      }
      event(e);
    },
    // the panel's task stream grows as the session steps: one lane, the runner's one thread
    ran: (t, start, end) => post({ kind: 'stream', bars: [[t, start - shownSince, end - shownSince, 0]], lanes: ['sync scheduler'] }),
  });
  /** When the graph the panel shows was sent (its record's startedAt): bars are placed from it. */
  let shownSince = Date.now();
  const showGraph = (): void => {
    const record = graphRecord(graph, keys, loaded.file);
    shownSince = record.run.startedAt;
    post({ kind: 'graph', record });
  };
  controller.prepare(graph);
  controller.stopAt(launch.stopAtKeys ?? []);
  // the graph panel follows the session: its graph now, its states as they change (also while paused)
  showGraph();
  captureOutput(controller);
  let started = false;
  let attached: (() => void) | undefined;

  const respond = (id: number, run: () => unknown): void => {
    const fail = (error: unknown): void => post({ kind: 'response', id, ok: false, message: error instanceof Error ? error.message : String(error) });
    try {
      const body = run();
      if (body instanceof Promise) body.then((b: unknown) => post({ kind: 'response', id, ok: true, body: b ?? null }), fail);
      else post({ kind: 'response', id, ok: true, body: body ?? null });
    } catch (error) {
      fail(error);
    }
  };

  const start = async (): Promise<void> => {
    let exitCode = 0;
    // the graph file's task definitions read (the language server's analysis): frames name their lines
    await controller.sourcesReady;
    for (;;) {
      try {
        // the graph compiled above: the breakpoints, the panel's record and the run share its task numbers
        const values = (await getAsync(graph, keys, { executor: controller.executor(), callbacks: [controller.callback, live] })) as unknown[];
        keys.forEach((k, i) => event({ event: 'output', category: 'console', text: `${k}: ${consoleText(values[i])}\n` }));
      } catch (error) {
        if (isRewind(error) && controller.rewinding) {
          // Step Back: the run again from the start, replayed up to the point asked for; the panel starts over with it
          showGraph();
          continue;
        }
        exitCode = 1;
        const message = error instanceof Error ? error.message : String(error);
        const cause = error instanceof TaskError && error.cause instanceof Error ? `\n${userStack(error.cause.stack ?? '')}` : '';
        event({ event: 'output', category: 'stderr', text: `${message}${cause}\n` });
      }
      break;
    }
    event({ event: 'finished', exitCode });
  };

  process.on('message', (m: ToRunner) => {
    if (m.kind !== 'request') return; // the launch itself came first, through main.ts
    const command: DebugCommand = m.command;
    switch (command) {
      case 'configurationDone':
        respond(m.id, () => undefined);
        if (!started) {
          started = true;
          void start();
        }
        return;
      case 'setFunctionBreakpoints':
        return respond(m.id, () => controller.setFunctionBreakpoints((m.args as DebugRequests['setFunctionBreakpoints']['args']).breakpoints));
      case 'setLineBreakpoints': {
        const a = m.args as DebugRequests['setLineBreakpoints']['args'];
        return respond(m.id, () => controller.setLineBreakpoints(a.file, a.breakpoints));
      }
      case 'setExceptionFilters':
        return respond(m.id, () => {
          controller.breakOnTaskError = (m.args as DebugRequests['setExceptionFilters']['args']).taskError;
        });
      case 'continue':
      case 'next':
      case 'stepOut':
      case 'restartFrame':
        return respond(m.id, () => controller.resume(command));
      case 'stepBack':
        return respond(m.id, () => controller.stepBack(false));
      case 'reverseContinue':
        return respond(m.id, () => controller.stepBack(true));
      case 'runTo':
        return respond(m.id, () => controller.runTo((m.args as DebugRequests['runTo']['args']).key));
      case 'stepIn':
        return respond(m.id, () => {
          const url = inspector.url() ?? null;
          controller.stepInHook = () => new Promise<void>((resolve) => (attached = resolve));
          controller.resume('stepIn');
          return { inspectorUrl: url, port: url === null ? null : Number(new URL(url).port) };
        });
      case 'attached':
        return respond(m.id, () => {
          attached?.();
          attached = undefined;
        });
      case 'pause':
        return respond(m.id, () => controller.requestPause());
      case 'terminate':
        respond(m.id, () => undefined);
        process.exit(0);
        return;
      case 'stackTrace':
      case 'scopes':
      case 'variables':
      case 'setVariable':
      case 'evaluate':
      case 'exceptionInfo':
      case 'taskKeys':
        // the request's args are typed by its command (debug/protocol.ts): one narrowing here
        return respond(m.id, () => controller.handle(command, m.args as never));
      default: {
        const never: never = command;
        return respond(m.id, () => {
          throw new Error(`unsupported debug request ${String(never)}`);
        });
      }
    }
  });
  event({ event: 'ready', tasks: graph.size, keys, inspectorPort: inspector.url() ? Number(new URL(inspector.url()!).port) : null });
}
