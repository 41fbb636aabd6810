/**
 * The "Skein Runs" view: recent runs with graph file, scheduler, status and duration. Runs are
 * kept for the workspace (the last 20), their output in memory for this window.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDuration } from '../runtime/diagnostics/report.js';

export type RunStatus = 'running' | 'ok' | 'failed' | 'stopped';

export interface RunInfo {
  readonly id: string;
  readonly file: string;
  readonly scheduler: string;
  status: RunStatus;
  readonly startedAt: number;
  durationMs?: number;
  tasks?: number;
  message?: string;
  /** A distributed run's cluster dashboard, while the run lasts. */
  dashboardLink?: string;
  /** The task whose error failed the run (Debug Failed Task runs it again under the debugger). */
  failedKey?: string;
  recordFile?: string;
  /** Process id of the runner while it runs. */
  pid?: number;
  /** Output-channel text of this run. */
  output: string[];
}

const KEEP = 20;
const STATE_KEY = 'skein.runs';

const ICONS: Record<RunStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin'),
  ok: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  stopped: new vscode.ThemeIcon('debug-stop'),
};

export { formatDuration };

export class RunsProvider implements vscode.TreeDataProvider<RunInfo>, vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<RunInfo | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  #runs: RunInfo[];

  constructor(private readonly memento: vscode.Memento) {
    const saved = memento.get<Array<Omit<RunInfo, 'output'>>>(STATE_KEY, []);
    // a run that was still going when the window closed did not finish
    this.#runs = saved.map((r) => ({ ...r, status: r.status === 'running' ? 'stopped' : r.status, output: [] }));
  }

  get runs(): readonly RunInfo[] {
    return this.#runs;
  }

  add(run: RunInfo): void {
    this.#runs.unshift(run);
    this.#runs.length = Math.min(this.#runs.length, KEEP);
    this.update();
  }

  clear(): void {
    this.#runs = this.#runs.filter((r) => r.status === 'running');
    this.update();
  }

  update(): void {
    this.#changed.fire(undefined);
    void this.memento.update(
      STATE_KEY,
      this.#runs.map(({ output: _output, pid: _pid, dashboardLink: _link, ...rest }) => rest),
    );
  }

  getTreeItem(run: RunInfo): vscode.TreeItem {
    const item = new vscode.TreeItem(path.basename(run.file), vscode.TreeItemCollapsibleState.None);
    const when = new Date(run.startedAt).toLocaleTimeString();
    item.description = `${run.scheduler} · ${run.status === 'running' ? 'running' : `${run.status} ${formatDuration(run.durationMs)}`} · ${when}`;
    item.tooltip = new vscode.MarkdownString(
      [`**${run.file}**`, `scheduler: ${run.scheduler}`, `status: ${run.status}`, run.tasks !== undefined ? `tasks: ${run.tasks}` : '', run.message ?? ''].filter(Boolean).join('\n\n'),
    );
    item.iconPath = ICONS[run.status];
    item.contextValue = `run-${run.status}${run.failedKey !== undefined ? '-task' : ''}`;
    item.command = { command: 'skein.showRun', title: 'Show Run Output', arguments: [run] };
    return item;
  }

  getChildren(element?: RunInfo): RunInfo[] {
    return element === undefined ? [...this.#runs] : [];
  }

  dispose(): void {
    this.#changed.dispose();
  }
}
