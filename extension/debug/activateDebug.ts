/**
 * Registers the `skein` debugger: the inline adapter, a configuration provider (F5 on a graph
 * file works without a launch.json), and Skein: Debug Task… (pick a key, debug only what it
 * needs, pause before it).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isGraphFile, nodeExecutable, readSettings } from '../settings.js';
import { refuseUntrusted } from '../trust.js';
import { type DebugHost, SkeinDebugSession } from './session.js';
import { GraphPanel, breakpointsMessage } from '../panel.js';
import { keyDefinition } from '../languageClientStart.js';

function runtimeDir(context: vscode.ExtensionContext): string {
  return path.join(context.extensionUri.fsPath, 'dist', 'runtime');
}

/** True when `s` was started, directly or not, by `ancestor`. */
function descendsFrom(s: vscode.DebugSession, ancestor: vscode.DebugSession): boolean {
  for (let p = s.parentSession; p !== undefined; p = p.parentSession) if (p.id === ancestor.id) return true;
  return false;
}

/**
 * Starts VS Code's JavaScript debugger as a child of `session`, attached to the runner, and
 * resolves once the session js-debug opens for the runner's process has answered
 * `configurationDone`, that is, once the user's breakpoints are set in it: only then may the task
 * run. Resolves false if it does not start.
 */
/** The JavaScript debugger sessions Step Into started, by the skein session they belong to: ended once the task is done. */
const javaScriptChildren = new Map<string, vscode.DebugSession[]>();

/** Ends the JavaScript debugger sessions a Step Into of `session` started (the task ran: they have nothing left to show). */
function endJavaScriptChildren(session: vscode.DebugSession): void {
  const children = javaScriptChildren.get(session.id) ?? [];
  javaScriptChildren.delete(session.id);
  // disconnected, not stopDebugging(child): a child whose lifecycle its parent manages is
  // stopped by stopping the parent, so that would end the Skein session too (VS Code 1.96)
  for (const child of children) void Promise.resolve(child.customRequest('disconnect', { terminateDebuggee: false })).catch(() => undefined);
}

/** The graph each skein session shows, by session id: Show Task Graph during a session shows it. */
const sessionGraphs = new Map<string, { record: unknown; title: string }>();

/** The graph of the active skein debug session, if one is active. */
export function activeSessionGraph(): { record: unknown; title: string } | undefined {
  const active = vscode.debug.activeDebugSession;
  return active?.type === 'skein' ? sessionGraphs.get(active.id) : undefined;
}

async function startJavaScriptDebugger(session: vscode.DebugSession, configuration: vscode.DebugConfiguration): Promise<boolean> {
  const children = vscode.debug.onDidStartDebugSession((s) => {
    if (s.type !== 'skein' && descendsFrom(s, session) && s.parentSession?.id === session.id) javaScriptChildren.set(session.id, [...(javaScriptChildren.get(session.id) ?? []), s]);
  });
  let ready: (ok: boolean) => void = () => undefined;
  const configured = new Promise<boolean>((resolve) => (ready = resolve));
  const tracker = vscode.debug.registerDebugAdapterTrackerFactory('*', {
    createDebugAdapterTracker: (s) =>
      s.type !== 'skein' && descendsFrom(s, session) && s.parentSession?.id !== session.id
        ? { onDidSendMessage: (m: { type?: string; command?: string }) => m.type === 'response' && m.command === 'configurationDone' && ready(true) }
        : undefined,
  });
  const timer = setTimeout(() => ready(true), 10_000); // an older js-debug without a target session: go on
  try {
    const started = await vscode.debug.startDebugging(session.workspaceFolder, configuration, { parentSession: session, lifecycleManagedByParent: true });
    if (!started) return false;
    return await configured;
  } finally {
    clearTimeout(timer);
    tracker.dispose();
    children.dispose();
  }
}

function host(context: vscode.ExtensionContext, session: vscode.DebugSession): DebugHost {
  return {
    startJavaScriptDebugger: (configuration) => startJavaScriptDebugger(session, configuration as vscode.DebugConfiguration),
    node: nodeExecutable(readSettings()),
    runnerFile: path.join(runtimeDir(context), 'runner.js'),
    followInPanel(message) {
      if (message.kind === 'graph') {
        const title = `Skein: debugging ${path.basename(session.configuration.program ?? '')}`;
        sessionGraphs.set(session.id, { record: message.record, title });
        GraphPanel.createOrShow(context).showRecord(message.record, title);
      } else if (message.kind === 'transitions' || message.kind === 'stream' || message.kind === 'taskError') {
        GraphPanel.current?.post(message);
      } else {
        // a Step Into's JavaScript session is done once the session pauses again
        endJavaScriptChildren(session);
        // the paused task: selected, brought into view, its details shown
        GraphPanel.current?.post({ kind: 'focus', key: message.key });
      }
    },
    async addTemporaryBreakpoint(file, line) {
      // the task function's first body line: where Step Into should stop in the JavaScript debugger
      const bp = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(file), new vscode.Position(Math.max(0, line), 0)));
      vscode.debug.addBreakpoints([bp]);
      return () => vscode.debug.removeBreakpoints([bp]);
    },
  };
}

/** What the panel's context menu passes (its data-vscode-context): the task under it. */
interface PanelTask {
  readonly key?: string;
  readonly graphFile?: string | null;
  readonly file?: string | null;
  readonly line?: number;
}

class SkeinConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    const refusal = refuseUntrusted(vscode.workspace.isTrusted);
    if (refusal !== undefined) {
      void vscode.window.showWarningMessage(refusal);
      return undefined;
    }
    if (!config.type && !config.request && !config.name) {
      // F5 without a launch.json
      const file = vscode.window.activeTextEditor?.document.uri.fsPath;
      if (file === undefined || !isGraphFile(file)) {
        void vscode.window.showInformationMessage('Skein: open a graph file (*.graph.ts) to debug it.');
        return undefined;
      }
      config = { type: 'skein', request: 'launch', name: 'Debug task graph', program: file, stopOnEntry: true };
    }
    if (!config.program) {
      void vscode.window.showErrorMessage('Skein: the launch configuration needs "program", the graph file to debug.');
      return undefined;
    }
    const settings = readSettings();
    return { stepBackMemory: settings.stepBackMemory, ...config, configuredScheduler: settings.scheduler };
  }
}

interface KeyInfo {
  key: string;
  group: string;
  dependencies: number;
}

/** The graph's keys, from `skein keys <file> --json` in a separate process (user code never runs here). */
function graphKeys(context: vscode.ExtensionContext, file: string): Promise<KeyInfo[]> {
  return new Promise((resolve, reject) => {
    execFile(nodeExecutable(readSettings()), [path.join(runtimeDir(context), 'cli.js'), 'keys', file, '--json'], { cwd: path.dirname(file), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve(JSON.parse(stdout) as KeyInfo[]);
    });
  });
}

export function activateDebug(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type !== 'skein') return;
      sessionGraphs.delete(s.id);
      endJavaScriptChildren(s);
    }),
    // the panel marks the tasks the function breakpoints match, as they change
    vscode.debug.onDidChangeBreakpoints(() => GraphPanel.current?.post(breakpointsMessage())),
    // a task's context menu in the panel (webview/context): its key, graph file and source come with it
    vscode.commands.registerCommand('skein.panel.runToHere', async (task?: PanelTask) => {
      const session = vscode.debug.activeDebugSession;
      if (task?.key === undefined || session?.type !== 'skein') return false;
      const { stopping } = (await session.customRequest('skeinRunTo', { key: task.key })) as { stopping: boolean };
      if (!stopping) void vscode.window.showInformationMessage(`Skein: Run to Here: ${JSON.stringify(task.key)} has run already in this session (or is not part of it).`);
      return stopping;
    }),
    vscode.commands.registerCommand('skein.panel.toggleBreakpoint', (task?: PanelTask) => (task?.key === undefined ? undefined : vscode.commands.executeCommand('skein.toggleTaskBreakpoint', task.key))),
    vscode.commands.registerCommand('skein.panel.debugTask', (task?: PanelTask) =>
      task?.key === undefined || !task.graphFile ? undefined : vscode.commands.executeCommand('skein.debugTask', vscode.Uri.file(task.graphFile), task.key),
    ),
    // the key where the graph file defines it (the language server's reading of the file), else the task's function
    vscode.commands.registerCommand('skein.panel.revealTask', async (task?: PanelTask): Promise<'key' | 'function' | false> => {
      if (task?.key !== undefined && task.graphFile) {
        const range = await keyDefinition(context, task.graphFile, task.key).catch(() => undefined);
        if (range !== undefined) {
          await vscode.window.showTextDocument(vscode.Uri.file(task.graphFile), { selection: range, viewColumn: vscode.ViewColumn.One });
          return 'key';
        }
      }
      if (!task?.file) return false;
      const line = Math.max(0, (task.line ?? 1) - 1);
      await vscode.window.showTextDocument(vscode.Uri.file(task.file), { selection: new vscode.Range(line, 0, line, 0), viewColumn: vscode.ViewColumn.One });
      return 'function';
    }),
    vscode.debug.registerDebugConfigurationProvider('skein', new SkeinConfigurationProvider()),
    vscode.debug.registerDebugAdapterDescriptorFactory('skein', {
      createDebugAdapterDescriptor: (session) => new vscode.DebugAdapterInlineImplementation(new SkeinDebugSession(host(context, session))),
    }),
    vscode.commands.registerCommand('skein.toggleTaskBreakpoint', (key?: unknown) => {
      if (typeof key !== 'string') return undefined;
      // a function breakpoint on the key: the Breakpoints view shows it, a skein session stops there
      const existing = vscode.debug.breakpoints.filter((b) => b instanceof vscode.FunctionBreakpoint && b.functionName === key);
      if (existing.length > 0) {
        vscode.debug.removeBreakpoints(existing);
        return 'removed';
      }
      vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(key)]);
      return 'added';
    }),
    vscode.commands.registerCommand('skein.debugTask', async (arg?: unknown, key?: string) => {
      const refusal = refuseUntrusted(vscode.workspace.isTrusted);
      if (refusal !== undefined) return void vscode.window.showWarningMessage(refusal);
      const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg.startsWith('file:') ? vscode.Uri.parse(arg) : vscode.window.activeTextEditor?.document.uri;
      if (uri === undefined) return void vscode.window.showInformationMessage('Skein: open a graph file (*.graph.ts) first.');
      let chosen = key;
      if (chosen === undefined) {
        let keys: KeyInfo[];
        try {
          keys = await graphKeys(context, uri.fsPath);
        } catch (error) {
          return void vscode.window.showErrorMessage(`Skein: cannot read the keys of ${path.basename(uri.fsPath)}: ${error instanceof Error ? error.message : String(error)}`);
        }
        const pick = await vscode.window.showQuickPick(
          keys.map((k) => ({ label: k.key, description: `${k.group} · ${k.dependencies} ${k.dependencies === 1 ? 'dependency' : 'dependencies'}` })),
          { title: `Debug a task of ${path.basename(uri.fsPath)}`, placeHolder: 'Pick a key: only what it needs runs, and the debugger pauses before it', matchOnDescription: true },
        );
        if (pick === undefined) return undefined;
        chosen = pick.label;
      }
      const started = await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), {
        type: 'skein',
        request: 'launch',
        name: `Debug ${chosen}`,
        program: uri.fsPath,
        keys: [chosen],
        stopAtKeys: [chosen],
      });
      // the Variables, Call Stack and Breakpoints in sight
      if (started) await vscode.commands.executeCommand('workbench.view.debug');
      return started;
    }),
  );
}
