/**
 * One run from start to end: starts a runner process, shows progress (a notification with
 * Cancel, a status bar item), writes the output channel (the equivalent command line, results,
 * a summary, or the error with its stack), turns a task error into a diagnostic at the user's
 * line, and records the run in the runs view. Stop kills the runner with everything it started.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FromRunner, SourceFrame } from '../runtime/runner/protocol.js';
import { RunnerClient } from './runnerClient.js';
import { type RunInfo, type RunsProvider, formatDuration } from './runs.js';
import { type SchedulerChoice, commandLine, nodeExecutable, readSettings } from './settings.js';
import { MANAGE_TRUST, refuseUntrusted } from './trust.js';
import { GraphPanel } from './panel.js';
import { validateRecord } from '../runtime/diagnostics/recordSchema.js';
import { debugCommand } from '../runtime/cli/debugCommand.js';
import { readFileSync } from 'node:fs';

export interface RunEnvironment {
  readonly context: vscode.ExtensionContext;
  readonly output: vscode.OutputChannel;
  readonly status: vscode.StatusBarItem;
  readonly diagnostics: vscode.DiagnosticCollection;
  readonly runs: RunsProvider;
  readonly finished: vscode.EventEmitter<RunInfo>;
  /** Everything written to the output channel in this window (the channel itself cannot be read back). */
  readonly transcript: string[];
}

const active = new Map<string, RunnerClient>();

/** Writes to the output channel and the run's transcript. */
function writer(env: RunEnvironment, run: RunInfo): (line: string) => void {
  return (line) => {
    env.output.appendLine(line);
    env.transcript.push(line);
    run.output.push(line);
  };
}

function setRunning(): void {
  void vscode.commands.executeCommand('setContext', 'skein.running', active.size > 0);
}

/** The first frame in a file the user owns: not in node_modules, not Node's own. */
export function userFrame(frames: readonly SourceFrame[]): SourceFrame | undefined {
  return frames.find((f) => !f.file.includes(`${path.sep}node_modules${path.sep}`) && path.isAbsolute(f.file));
}

function diagnose(env: RunEnvironment, frames: readonly SourceFrame[], message: string): void {
  const frame = userFrame(frames);
  if (frame === undefined) return;
  const uri = vscode.Uri.file(frame.file);
  const line = Math.max(0, frame.line - 1);
  const range = new vscode.Range(line, Math.max(0, frame.column - 1), line, Number.MAX_SAFE_INTEGER);
  const diagnostic = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'skein';
  env.diagnostics.set(uri, [...(env.diagnostics.get(uri) ?? []), diagnostic]);
}

/** Starts a run of `file`; resolves when it has finished, failed or been stopped. */
export async function startRun(env: RunEnvironment, file: vscode.Uri, scheduler?: SchedulerChoice): Promise<RunInfo | undefined> {
  const refusal = refuseUntrusted(vscode.workspace.isTrusted);
  if (refusal !== undefined) {
    void vscode.window.showWarningMessage(refusal, MANAGE_TRUST).then((choice) => (choice === MANAGE_TRUST ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
    return undefined;
  }
  const settings = readSettings(file);
  const chosen = scheduler ?? settings.scheduler;
  const id = randomUUID();
  const storage = env.context.storageUri ?? env.context.globalStorageUri;
  const recordDir = path.join(storage.fsPath, 'runs');
  mkdirSync(recordDir, { recursive: true });
  const run: RunInfo = { id, file: file.fsPath, scheduler: chosen, status: 'running', startedAt: Date.now(), output: [], recordFile: path.join(recordDir, `${id}.skein.json`) };
  env.runs.add(run);
  const write = writer(env, run);
  const workspaceFolder = vscode.workspace.getWorkspaceFolder(file);
  const shown = workspaceFolder ? path.relative(workspaceFolder.uri.fsPath, file.fsPath) : file.fsPath;
  env.output.show(true);
  write(`$ ${commandLine(shown, chosen, settings.numWorkers)}`);
  if (settings.openPanelOnRun) GraphPanel.createOrShow(env.context);
  env.diagnostics.clear();

  let done = 0;
  let total = 0;
  let onProgress: ((message: FromRunner & { kind: 'progress' }) => void) | undefined;
  // clicking the status bar item shows this run: its output, and the panel
  env.status.command = { command: 'skein.showRun', title: 'Show Run', arguments: [run] };
  const showStatus = (): void => {
    env.status.text = `$(sync~spin) Skein ${done}/${total}`;
    env.status.tooltip = `Skein: running ${shown} with ${chosen}; click to show the output`;
    env.status.show();
  };
  showStatus();

  /** The panel shows this run's graph live (until a recording replaces it). */
  let liveShown = false;
  const client = RunnerClient.start({
    node: nodeExecutable(settings),
    runnerFile: path.join(env.context.extensionUri.fsPath, 'dist', 'runtime', 'runner.js'),
    cwd: workspaceFolder?.uri.fsPath ?? path.dirname(file.fsPath),
    request: { kind: 'run', file: file.fsPath, scheduler: chosen, numWorkers: settings.numWorkers, recordFile: run.recordFile, live: GraphPanel.current !== undefined },
    onOutput: (text) => {
      for (const line of text.replace(/\n$/, '').split('\n')) write(line);
    },
    onMessage: (m) => {
      switch (m.kind) {
        case 'started':
          total = m.tasks;
          run.pid = m.pid;
          showStatus();
          return;
        case 'progress':
          done = m.done;
          total = m.total;
          showStatus();
          onProgress?.(m);
          return;
        case 'result':
          write(`${m.key}: ${m.text}`);
          return;
        case 'graph':
          liveShown = GraphPanel.current !== undefined;
          GraphPanel.current?.showRecord(m.record, `Skein: ${path.basename(file.fsPath)} (running)`);
          return;
        case 'transitions':
          GraphPanel.current?.post({ kind: 'transitions', tasks: m.tasks, states: m.states, done: m.done, total: m.total });
          return;
        case 'finished':
          run.status = 'ok';
          run.tasks = m.tasks;
          run.durationMs = m.elapsedMs;
          write(`✓ ${m.tasks} tasks in ${formatDuration(m.elapsedMs)} · ${m.scheduler} scheduler · ${m.numWorkers} worker${m.numWorkers === 1 ? '' : 's'}`);
          return;
        case 'failed':
          run.status = 'failed';
          run.message = m.message;
          if (m.key !== null) run.failedKey = m.key; // a task's own error (not a bad graph or option)
          write(`✗ ${m.message}`);
          if (m.stack !== null) write(m.stack);
          if (run.failedKey !== undefined) write(`Debug it: Skein: Debug Failed Task (runs ${JSON.stringify(run.failedKey)} again under the debugger); in a terminal: ${debugCommand(shown, run.failedKey)}`);
          diagnose(env, m.frames, m.message.split('\n')[0]!);
          return;
        case 'dashboard':
          run.dashboardLink = m.link;
          write(`dashboard: ${m.link} (Skein: Open Dashboard shows it here)`);
          return;
        case 'response':
        case 'debugEvent':
        case 'stream':
        case 'taskError':
          return; // a debug session's messages: a run's runner sends none
        default: {
          const never: never = m;
          return never;
        }
      }
    },
  });
  active.set(id, client);
  setRunning();

  const finished = vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Skein: ${path.basename(file.fsPath)} (${chosen})`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => client.stop());
      let reported = 0;
      onProgress = (m) => {
        const pct = m.total > 0 ? (m.done / m.total) * 100 : 0;
        progress.report({ message: `${m.done}/${m.total} tasks`, increment: pct - reported });
        reported = pct;
      };
      return client.exited;
    },
  );
  const exit = await finished;
  active.delete(id);
  setRunning();
  run.pid = undefined;
  run.dashboardLink = undefined; // its cluster closed with the run
  run.durationMs ??= Date.now() - run.startedAt;
  if (client.stopped && run.status === 'running') {
    run.status = 'stopped';
    write(`■ stopped after ${formatDuration(run.durationMs)}`);
  } else if (run.status === 'running') {
    run.status = 'failed';
    run.message = `The runner exited unexpectedly (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}).`;
    write(`✗ ${run.message}`);
  }
  env.status.text = run.status === 'ok' ? `$(pass) Skein ${run.tasks} tasks · ${formatDuration(run.durationMs)}` : run.status === 'stopped' ? '$(debug-stop) Skein stopped' : '$(error) Skein failed';
  env.status.tooltip = `Skein: last run ${run.status}; click to show the output`;
  env.runs.update();
  const ended = `Skein: ${path.basename(run.file)} (${run.scheduler}, ${run.status})`;
  const recorded = run.recordFile !== undefined && GraphPanel.current !== undefined && showRecording(run.recordFile, ended);
  // no recording (stopped, or the runner died): the live picture must not go on saying "running"
  if (!recorded && liveShown && GraphPanel.current !== undefined && !GraphPanel.current.live) GraphPanel.current.endRun(ended);
  env.finished.fire(run);
  if (run.failedKey !== undefined) offerDebugFailedTask(run);
  return run;
}

export const DEBUG_FAILED_TASK = 'Debug Failed Task';

/** The error notification of a run a task failed: Debug Failed Task, or the output. */
function offerDebugFailedTask(run: RunInfo): void {
  const first = (run.message ?? '').split('\n')[0]!;
  void vscode.window.showErrorMessage(`Skein: ${first}`, DEBUG_FAILED_TASK, 'Show Output').then((choice) => {
    if (choice === DEBUG_FAILED_TASK) return vscode.commands.executeCommand('skein.debugFailedTask', run);
    if (choice === 'Show Output') return vscode.commands.executeCommand('skein.showRun', run);
    return undefined;
  });
}

/** Opens a recorded run in the graph panel; false when the file is missing or not a recording. */
export function showRecording(file: string, title: string): boolean {
  let record;
  try {
    record = validateRecord(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch {
    return false;
  }
  GraphPanel.current?.showRecord(record, title, file);
  return true;
}

/** Stops every run in progress (Skein: Stop Run). */
export function stopRuns(): number {
  for (const client of active.values()) client.stop();
  return active.size;
}
