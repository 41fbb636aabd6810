/**
 * The runner: a Node process the VS Code extension starts for each run, so user code never runs
 * in the extension host. It receives one `run` message over IPC, loads the graph file with the
 * runtime, runs it, streams typed events back (protocol.ts), and exits. The extension stops it
 * by killing its process group, which takes its worker processes along.
 */
import { writeFileSync } from 'node:fs';
import type { Callback } from '../core/callbacks.js';
import { Recorder } from '../diagnostics/recorder.js';
import { SkeinError, TaskError } from '../errors.js';
import { LogCursor, type SchedulerState, TaskStatus } from '../core/state.js';
import { STATE_CODES } from '../core/taskStates.js';
import { graphRecord } from '../diagnostics/visualize.js';
import { loadGraphFileRun } from '../run/graphFileRun.js';
import { formatValue } from '../cli/format.js';
import { userStack } from '../cli/stack.js';
import type { FromRunner, RunRequest, SourceFrame, ToRunner } from './protocol.js';
import { runDebug } from './debug.js';
import { liveTransitions } from './live.js';

function send(message: FromRunner): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      process.stdout.write(`${JSON.stringify(message)}\n`);
      resolve();
    } else process.send(message, () => resolve());
  });
}

/** Frames with a file path in a stack, innermost first: `at fn (/a/b.ts:8:11)` or `at /a/b.ts:8:11`. */
export function stackFrames(stack: string): SourceFrame[] {
  const frames: SourceFrame[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:.*? \()?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/.exec(line);
    if (m) frames.push({ file: m[1]!.replace(/^file:\/\//, ''), line: Number(m[2]), column: Number(m[3]) });
  }
  return frames;
}

/** Counts finished tasks from the core's transition log; sends progress at most ten times a second, and once at the end. */
function progress(total: () => number): Callback {
  let done = 0;
  let state: SchedulerState | undefined;
  let timer: NodeJS.Timeout | undefined;
  const cursor = new LogCursor();
  const read = (): boolean =>
    cursor.read(state?.log, (_t, from, to) => {
      if (from === TaskStatus.running && to === TaskStatus.memory) done++;
    }) > 0;
  return {
    transitions: true,
    startState(_dsk, s) {
      state = s;
      read();
      timer = setInterval(() => {
        if (read()) void send({ kind: 'progress', done, total: total() });
      }, 100);
    },
    finish() {
      clearInterval(timer);
      read();
      void send({ kind: 'progress', done, total: total() });
    },
  };
}

async function run(request: RunRequest): Promise<number> {
  const recordFile = request.recordFile ?? null;
  try {
    const prepared = await loadGraphFileRun(request.file, { scheduler: request.scheduler, numWorkers: request.numWorkers, keys: request.keys, onDashboard: (link) => void send({ kind: 'dashboard', link }) });
    const { loaded, keys, cfg, numWorkers } = prepared;
    const tasks = prepared.graph.size;
    await send({ kind: 'started', file: loaded.file, scheduler: cfg.scheduler, numWorkers, tasks, keys, pid: process.pid });
    const recorder = recordFile !== null ? new Recorder() : undefined;
    const callbacks: Callback[] = [progress(() => tasks)];
    if (request.live) {
      await send({ kind: 'graph', record: graphRecord(prepared.graph, keys, loaded.file) });
      callbacks.push(liveTransitions(() => tasks, send));
    }
    if (recorder) callbacks.push(recorder);
    const outcome = await prepared.run(callbacks);
    const record = recorder === undefined ? undefined : prepared.record(recorder, outcome);
    if (record !== undefined && recordFile !== null) writeFileSync(recordFile, JSON.stringify(record));
    if (outcome.failure !== undefined) throw outcome.failure;
    for (let i = 0; i < keys.length; i++) {
      const text = formatValue(outcome.values[i], false);
      await send({ kind: 'result', key: keys[i]!, text, bytes: null });
    }
    await send({ kind: 'finished', tasks, elapsedMs: Math.round(outcome.elapsedMs * 10) / 10, scheduler: cfg.scheduler, numWorkers, recordFile });
    return 0;
  } catch (error) {
    const key = error instanceof TaskError ? error.key : null;
    const cause = error instanceof TaskError ? error.cause : error;
    const raw = cause instanceof Error && !(cause instanceof SkeinError && error instanceof TaskError) ? (cause.stack ?? null) : null;
    const stack = raw === null ? null : userStack(raw);
    await send({
      kind: 'failed',
      code: error instanceof SkeinError ? error.code : 'ERROR',
      key,
      message: error instanceof Error ? error.message : String(error),
      stack,
      frames: stack === null ? [] : stackFrames(stack),
      recordFile,
    });
    return 1;
  }
}

process.once('message', (message: ToRunner) => {
  // the extension host that started this runner is gone (closed, crashed, or it closed the channel
  // when a run ended): nothing to answer to. A debug runner would otherwise stay, kept alive by its
  // inspector's port, paused at a task for ever.
  process.on('disconnect', () => process.exit(process.exitCode ?? 0));
  switch (message.kind) {
    case 'debug':
      runDebug(message).catch((error: unknown) => {
        send({ kind: 'debugEvent', event: 'output', category: 'stderr', text: `${error instanceof Error ? error.message : String(error)}\n` });
        process.send?.({ kind: 'debugEvent', event: 'finished', exitCode: 2 } satisfies FromRunner, () => process.exit(2));
      });
      return;
    case 'run':
      run(message).then(
        (code) => {
          process.exitCode = code;
          process.disconnect?.();
        },
        () => {
          process.exitCode = 2;
          process.disconnect?.();
        },
      );
      return;
    case 'request':
      return; // a debugger request before a debug launch: nothing to answer it
    default: {
      const never: never = message;
      return never;
    }
  }
});
