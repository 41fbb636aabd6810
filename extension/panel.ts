/**
 * The graph panel in VS Code: one webview panel running the browser app in webview/ (the same
 * app `skein visualize` exports). It shows a recorded run, a graph that has not run, or a run in
 * progress (states streamed from the runner), follows the theme, uses a strict CSP with a nonce,
 * and comes back after a reload (WebviewPanelSerializer + the webview's own state).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { validateRecord, type RunRecord } from '../runtime/diagnostics/recordSchema.js';
import { panelPage, readPageTemplate } from '../runtime/diagnostics/page.js';
import type { FromWebview, ToWebview } from '../webview/protocol.js';

const LAST_RECORD = 'skein.panel.lastRecord';

export type Rendered = Extract<FromWebview, { kind: 'rendered' }>;

export class GraphPanel {
  static readonly viewType = 'skein.graph';
  static current: GraphPanel | undefined;
  /** The last `rendered` report of the webview (the in-VS Code tests read it). */
  static lastRendered: Rendered | undefined;
  readonly #panel: vscode.WebviewPanel;
  readonly #disposables: vscode.Disposable[] = [];
  #ready = false;
  #pending: ToWebview | undefined;
  #lastRecord: ToWebview | undefined;

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
  ) {
    this.#panel = panel;
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.webview.html = this.#html(panel.webview, root);
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.png');
    this.#disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: FromWebview) => this.#receive(m)),
    );
  }

  /** Shows the panel (creating it once). */
  static createOrShow(context: vscode.ExtensionContext): GraphPanel {
    if (GraphPanel.current) {
      GraphPanel.current.#panel.reveal(vscode.ViewColumn.Beside, true);
      return GraphPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(GraphPanel.viewType, 'Skein: Task Graph', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true });
    GraphPanel.current = new GraphPanel(panel, context);
    return GraphPanel.current;
  }

  /** Restores a panel after a reload, with the last recording it showed. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext): void {
    if (GraphPanel.current) {
      // a second restored panel: one panel is the rule
      panel.dispose();
      return;
    }
    GraphPanel.current = new GraphPanel(panel, context);
    const file = context.workspaceState.get<string>(LAST_RECORD);
    if (file) {
      try {
        GraphPanel.current.showRecord(validateRecord(JSON.parse(readFileSync(file, 'utf8')), file), 'Skein: Task Graph', file);
      } catch {
        // the recording is gone: the panel stays empty until the next run
      }
    }
  }

  #live = false;

  /** The messages that follow come from a live cluster (Open Dashboard): the app shows its tabs. */
  setLive(title: string): void {
    this.#panel.title = title;
    this.#live = true;
    this.#lastRecord = undefined;
    this.post({ kind: 'live', on: true });
  }

  /** Whether the panel follows a live cluster (a run shown since ends that). */
  get live(): boolean {
    return this.#live;
  }

  /** Runs `listener` when the panel closes. */
  onDispose(listener: () => void): void {
    this.#disposables.push(this.#panel.onDidDispose(listener));
  }

  /** Shows a whole run (or a graph before it runs). `file`: remembered to restore after a reload. */
  showRecord(record: RunRecord, title: string, file?: string): void {
    this.#panel.title = title;
    if (this.#live) this.post({ kind: 'live', on: false });
    this.#live = false;
    if (file) void this.context.workspaceState.update(LAST_RECORD, file);
    this.post({ kind: 'record', record, title });
  }

  /** The live run shown ended with no recording (stopped, runner gone): says so, nothing shown running. */
  endRun(title: string): void {
    this.#panel.title = title;
    this.post({ kind: 'ended', title });
  }

  post(message: ToWebview): void {
    if (message.kind === 'record') this.#lastRecord = message;
    if (!this.#ready) {
      // before the app is up, keep the newest whole record (states without a record are useless;
      // a live cluster's other messages come again)
      if (message.kind === 'record' || (this.#pending === undefined && message.kind !== 'live')) this.#pending = message;
      return;
    }
    void this.#panel.webview.postMessage(message);
  }

  #receive(m: FromWebview): void {
    switch (m.kind) {
      case 'ready':
        // also after the webview reloads: it starts empty, so it gets the last run again
        this.#ready = true;
        void this.#panel.webview.postMessage({ kind: 'actions' } satisfies ToWebview);
        void this.#panel.webview.postMessage(breakpointsMessage());
        if (this.#live) void this.#panel.webview.postMessage({ kind: 'live', on: true } satisfies ToWebview);
        if (this.#pending) void this.#panel.webview.postMessage(this.#pending);
        else if (this.#lastRecord) void this.#panel.webview.postMessage(this.#lastRecord);
        this.#pending = undefined;
        return;
      case 'reveal':
        void vscode.commands.executeCommand('skein.panel.revealTask', { key: m.key, graphFile: m.graphFile, file: m.file, line: m.line });
        return;
      case 'rendered':
        GraphPanel.lastRendered = m;
        return;
      case 'taskAction':
        if (m.action === 'debugTask') {
          if (m.graphFile !== null) void vscode.commands.executeCommand('skein.debugTask', vscode.Uri.file(m.graphFile), m.key);
        } else void vscode.commands.executeCommand('skein.toggleTaskBreakpoint', m.key);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  #html(webview: vscode.Webview, root: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const uri = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `connect-src ${webview.cspSource}`,
      'worker-src blob:',
    ].join('; ');
    return panelPage(readPageTemplate(root.fsPath), {
      csp,
      title: 'Skein: Task Graph',
      head: `<link rel="stylesheet" href="${uri('codicon.css')}">\n<link rel="stylesheet" href="${uri('panel.css')}">`,
      scripts: `<script nonce="${nonce}">window.SKEIN_ELK_WORKER_URL = ${JSON.stringify(uri('elk-worker.js'))};</script>\n<script nonce="${nonce}" src="${uri('panel.js')}"></script>`,
    });
  }

  dispose(): void {
    if (GraphPanel.current === this) GraphPanel.current = undefined;
    this.#panel.dispose();
    for (const d of this.#disposables.splice(0)) d.dispose();
  }
}

/** The debugger's enabled function breakpoints (keys, key groups, globs), for the panel to mark. */
export function breakpointsMessage(): ToWebview {
  const names = vscode.debug.breakpoints.filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint && b.enabled).map((b) => b.functionName);
  return { kind: 'breakpoints', names };
}
