/**
 * Registers everything the extension contributes: run commands, the status bar item, the
 * output channel, diagnostics, the runs view, and the context key that puts the run commands on
 * graph files. Returns a small API that the in-VS Code tests read.
 */
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from '../runtime/diagnostics/recordSchema.js';
import { type Rendered, GraphPanel } from './panel.js';
import { DEBUG_FAILED_TASK, type RunEnvironment, showRecording, startRun, stopRuns } from './runController.js';
import { recordedFailure } from './recordedFailure.js';
import { followedStatus, openDashboard, stopFollowing } from './dashboard.js';
import { type RunInfo, RunsProvider } from './runs.js';
import { type SchedulerChoice, isGraphFile, nodeExecutable, readSettings } from './settings.js';
import { activateDebug, activeSessionGraph } from './debug/activateDebug.js';
import { startWhenGraphFilesOpen } from './languageClientStart.js';
import { MANAGE_TRUST, UNTRUSTED_MESSAGE, refuseUntrusted } from './trust.js';
import { copySkeinPackage, hasSkeinPackage, isMissingSkein } from './workspacePackage.js';

export interface SkeinApi {
  readonly runs: () => readonly RunInfo[];
  /** Every line written to the "Skein" output channel in this window. */
  readonly transcript: () => string;
  readonly statusText: () => string;
  readonly onDidFinishRun: vscode.Event<RunInfo>;
  /** How long activate() took, in ms (set by the entry point). */
  readonly activationMs?: () => number;
  /** What the graph panel last reported it rendered (tests). */
  readonly panelRendered: () => Rendered | undefined;
  /** The status bar text of the cluster Open Dashboard follows, if any. */
  readonly clusterStatus: () => string | undefined;
}

/** The record of a graph file that has not run, from `skein visualize --json` in a separate process. */
function graphOf(context: vscode.ExtensionContext, file: string): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    const cli = path.join(context.extensionUri.fsPath, 'dist', 'runtime', 'cli.js');
    execFile(nodeExecutable(readSettings()), [cli, 'visualize', file, '--json'], { cwd: path.dirname(file), maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve(JSON.parse(stdout) as RunRecord);
    });
  });
}

async function updateGraphFiles(): Promise<void> {
  const glob = readSettings().graphFiles;
  const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', 5000);
  await vscode.commands.executeCommand('setContext', 'skein.graphFiles', files.map((f) => f.fsPath));
}

/** The graph file Show Task Graph or a run used last. */
let lastGraphFile: string | undefined;

function targetFile(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  // a lens of the language server names its file by URI string
  if (typeof arg === 'string' && arg.startsWith('file:')) return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

export function activateSkein(context: vscode.ExtensionContext): SkeinApi {
  const output = vscode.window.createOutputChannel('Skein');
  const status = vscode.window.createStatusBarItem('skein.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Skein';
  status.command = 'skein.showRun';
  const diagnostics = vscode.languages.createDiagnosticCollection('skein');
  const runs = new RunsProvider(context.workspaceState);
  const finished = new vscode.EventEmitter<RunInfo>();
  const env: RunEnvironment = { context, output, status, diagnostics, runs, finished, transcript: [] };
  context.subscriptions.push(output, status, diagnostics, runs, finished, vscode.window.registerTreeDataProvider('skein.runs', runs));
  context.subscriptions.push({ dispose: stopFollowing });
  // the language server, once a graph file is open (it reads sources, runs nothing)
  startWhenGraphFilesOpen(context, isGraphFile, finished.event);
  // a debug session starts: the status of an earlier run (a "Skein failed" from before) goes
  context.subscriptions.push(vscode.debug.onDidStartDebugSession((s) => (s.type === 'skein' ? status.hide() : undefined)));

  let offeredPackage = false; // once per window: a graph file that cannot resolve 'skein'
  const ADD_PACKAGE = 'Add the Skein Package';
  const run = (scheduler: SchedulerChoice) => async (arg: unknown) => {
    const file = targetFile(arg);
    if (file === undefined) {
      void vscode.window.showInformationMessage('Skein: open a graph file (*.graph.ts) first, or run it from the explorer.');
      return undefined;
    }
    if (vscode.window.activeTextEditor?.document.uri.toString() === file.toString()) await vscode.window.activeTextEditor.document.save();
    lastGraphFile = file.fsPath;
    return startRun(env, file, scheduler);
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('skein.runThreads', run('threads')),
    vscode.commands.registerCommand('skein.runProcesses', run('processes')),
    vscode.commands.registerCommand('skein.runDistributed', run('distributed')),
    vscode.commands.registerCommand('skein.runSync', run('sync')),
    vscode.commands.registerCommand('skein.stopRun', () => stopRuns()),
    vscode.commands.registerCommand('skein.addPackage', async (arg?: unknown) => {
      const uri = targetFile(arg) ?? vscode.workspace.workspaceFolders?.[0]?.uri;
      const folder = uri === undefined ? undefined : vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
      if (folder === undefined) {
        void vscode.window.showInformationMessage('Skein: open a folder first; the package goes into its node_modules.');
        return undefined;
      }
      const target = copySkeinPackage(context.extensionPath, folder.uri.fsPath);
      void vscode.window.showInformationMessage(`Skein: added the skein package (runtime, types, CLI) to ${path.relative(folder.uri.fsPath, target)}.`);
      return target;
    }),
    vscode.languages.onDidChangeDiagnostics((e) => {
      if (offeredPackage || !vscode.workspace.isTrusted) return;
      for (const uri of e.uris) {
        if (!vscode.languages.getDiagnostics(uri).some((d) => isMissingSkein(d.message))) continue;
        const folder = vscode.workspace.getWorkspaceFolder(uri);
        if (folder === undefined || hasSkeinPackage(folder.uri.fsPath)) continue;
        offeredPackage = true;
        void vscode.window
          .showInformationMessage("Skein: this workspace has no 'skein' package, so the editor has no types for it (runs work without it). Add it to node_modules?", ADD_PACKAGE)
          .then((choice) => (choice === ADD_PACKAGE ? vscode.commands.executeCommand('skein.addPackage', uri) : undefined));
        return;
      }
    }),
    vscode.commands.registerCommand('skein.explainRestricted', async () => {
      const choice = await vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, MANAGE_TRUST);
      if (choice === MANAGE_TRUST) await vscode.commands.executeCommand('workbench.trust.manage');
      return choice;
    }),
    vscode.commands.registerCommand('skein.rerun', (r?: RunInfo) => (r ? startRun(env, vscode.Uri.file(r.file), r.scheduler as SchedulerChoice) : undefined)),
    vscode.commands.registerCommand('skein.clearRuns', () => runs.clear()),
    vscode.commands.registerCommand('skein.showGraph', async (arg?: unknown) => {
      // during a debug session, its graph (the active editor is often a task's module, not the graph file)
      const explicit = arg instanceof vscode.Uri || typeof arg === 'string';
      const session = explicit ? undefined : activeSessionGraph();
      if (session !== undefined) {
        GraphPanel.createOrShow(context).showRecord(session.record as RunRecord, session.title);
        return true;
      }
      const active = targetFile(arg);
      // a file that is not a graph file (a module of tasks): the graph file used last
      const file = active !== undefined && !explicit && !isGraphFile(active.fsPath) && lastGraphFile !== undefined ? vscode.Uri.file(lastGraphFile) : active;
      const panel = GraphPanel.createOrShow(context);
      if (file === undefined) return true;
      lastGraphFile = file.fsPath;
      const record = await graphOf(context, file.fsPath).catch((error: unknown) => {
        void vscode.window.showErrorMessage(`Skein: cannot draw ${path.basename(file.fsPath)}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (record) panel.showRecord(record, `Skein: ${path.basename(file.fsPath)}`);
      return record !== undefined;
    }),
    vscode.commands.registerCommand('skein.openRecording', async (arg?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : (await vscode.window.showOpenDialog({ filters: { 'Skein recordings': ['json'] }, title: 'Open a recorded run (skein run --record)' }))?.[0];
      if (!uri) return false;
      GraphPanel.createOrShow(context);
      const ok = showRecording(uri.fsPath, `Skein: ${path.basename(uri.fsPath)}`);
      if (!ok) void vscode.window.showErrorMessage(`Skein: ${path.basename(uri.fsPath)} is not a recorded run.`);
      // a recorded run that a task failed names the task and its graph file: offer to debug it
      const failure = ok ? recordedFailure(uri.fsPath) : undefined;
      if (failure !== undefined) {
        void vscode.window.showErrorMessage(`Skein: the recorded run failed at task ${JSON.stringify(failure.failedKey)}: ${failure.message}`, DEBUG_FAILED_TASK).then((choice) =>
          choice === DEBUG_FAILED_TASK ? vscode.commands.executeCommand('skein.debugFailedTask', failure) : undefined,
        );
      }
      return ok;
    }),
    vscode.commands.registerCommand('skein.openDashboard', async (arg?: unknown) => {
      let link = typeof arg === 'string' ? arg : undefined;
      if (link === undefined) {
        // the clusters of runs started here, or an address typed in (a skein scheduler, a script's client)
        const running = runs.runs.filter((r) => r.dashboardLink !== undefined);
        const typeIn = 'Enter the address of a dashboard…';
        const pick = running.length === 0 ? typeIn : (await vscode.window.showQuickPick([...running.map((r) => ({ label: r.dashboardLink!, description: `${path.basename(r.file)}, running` })), { label: typeIn }], { title: 'Open the dashboard of a Skein cluster' }))?.label;
        if (pick === undefined) return false;
        link = pick !== typeIn ? pick : await vscode.window.showInputBox({ title: 'Skein dashboard', prompt: 'The dashboard link a client or `skein scheduler` printed', value: 'http://127.0.0.1:8787/status', validateInput: (v) => (/^https?:\/\/[^/]+/.test(v) ? undefined : 'a link such as http://127.0.0.1:8787/status') });
        if (link === undefined) return false;
      }
      return openDashboard(context, link);
    }),
    vscode.commands.registerCommand('skein.debugFailedTask', async (arg?: { file: string; failedKey?: string }) => {
      // from a notification or the runs view: that run; from the palette: the latest run a task failed
      const target = arg?.failedKey !== undefined ? arg : runs.runs.find((r) => r.failedKey !== undefined);
      if (target?.failedKey === undefined) return void vscode.window.showInformationMessage('Skein: no run has failed at a task yet. Debug Failed Task runs such a task again under the debugger.');
      const refusal = refuseUntrusted(vscode.workspace.isTrusted);
      if (refusal !== undefined) return void vscode.window.showWarningMessage(refusal);
      const uri = vscode.Uri.file(target.file);
      // only what the task needs runs, with the sync scheduler; the Task error stop pauses at it
      const started = await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), {
        type: 'skein',
        request: 'launch',
        name: `Debug failed task ${target.failedKey}`,
        program: target.file,
        keys: [target.failedKey],
      });
      if (started) await vscode.commands.executeCommand('workbench.view.debug');
      return started;
    }),
    vscode.window.registerWebviewPanelSerializer(GraphPanel.viewType, {
      deserializeWebviewPanel: async (panel) => GraphPanel.revive(panel, context),
    }),
    vscode.commands.registerCommand('skein.showRun', (r?: RunInfo) => {
      if (r?.status === 'running') GraphPanel.createOrShow(context); // live states arrive while it runs
      else if (r?.recordFile !== undefined && existsSync(r.recordFile)) {
        GraphPanel.createOrShow(context);
        showRecording(r.recordFile, `Skein: ${path.basename(r.file)} (${r.scheduler}, ${r.status})`);
      }
      if (r !== undefined && r.output.length > 0) {
        output.appendLine('');
        output.appendLine(`── ${r.file} (${r.scheduler}, ${r.status}) ──`);
        for (const line of r.output) output.appendLine(line);
      }
      output.show(true);
    }),
  );

  activateDebug(context);
  void updateGraphFiles();
  const watcher = vscode.workspace.createFileSystemWatcher(readSettings().graphFiles);
  context.subscriptions.push(
    watcher,
    watcher.onDidCreate(() => void updateGraphFiles()),
    watcher.onDidDelete(() => void updateGraphFiles()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('skein.graphFiles')) void updateGraphFiles();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void updateGraphFiles()),
    { dispose: () => void stopRuns() },
  );

  return {
    runs: () => runs.runs,
    transcript: () => env.transcript.join('\n'),
    statusText: () => status.text,
    onDidFinishRun: finished.event,
    panelRendered: () => GraphPanel.lastRendered,
    clusterStatus: () => followedStatus(),
  };
}
