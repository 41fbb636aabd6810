/**
 * Registers everything the extension contributes: run commands, the status bar item, the
 * output channel, diagnostics, the runs view, and the context key that puts the run commands on
 * graph files. Returns a small API that the in-VS Code tests read.
 */
import * as vscode from 'vscode';
import { type RunEnvironment, startRun, stopRuns } from './runController.js';
import { type RunInfo, RunsProvider } from './runs.js';
import { type SchedulerChoice, readSettings } from './settings.js';
import { activateDebug } from './debug/activateDebug.js';

export interface SkeinApi {
  readonly runs: () => readonly RunInfo[];
  /** Every line written to the "Skein" output channel in this window. */
  readonly transcript: () => string;
  readonly statusText: () => string;
  readonly onDidFinishRun: vscode.Event<RunInfo>;
  /** How long activate() took, in ms (set by the entry point). */
  readonly activationMs?: () => number;
}

async function updateGraphFiles(): Promise<void> {
  const glob = readSettings().graphFiles;
  const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', 5000);
  await vscode.commands.executeCommand('setContext', 'skein.graphFiles', files.map((f) => f.fsPath));
}

function targetFile(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
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

  const run = (scheduler: SchedulerChoice) => async (arg: unknown) => {
    const file = targetFile(arg);
    if (file === undefined) {
      void vscode.window.showInformationMessage('Skein: open a graph file (*.graph.ts) first, or run it from the explorer.');
      return undefined;
    }
    if (vscode.window.activeTextEditor?.document.uri.toString() === file.toString()) await vscode.window.activeTextEditor.document.save();
    return startRun(env, file, scheduler);
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('skein.runThreads', run('threads')),
    vscode.commands.registerCommand('skein.runProcesses', run('processes')),
    vscode.commands.registerCommand('skein.runSync', run('sync')),
    vscode.commands.registerCommand('skein.stopRun', () => stopRuns()),
    vscode.commands.registerCommand('skein.rerun', (r?: RunInfo) => (r ? startRun(env, vscode.Uri.file(r.file), r.scheduler as SchedulerChoice) : undefined)),
    vscode.commands.registerCommand('skein.clearRuns', () => runs.clear()),
    vscode.commands.registerCommand('skein.showRun', (r?: RunInfo) => {
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
  };
}
