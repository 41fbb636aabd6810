/**
 * Skein: Open Dashboard: a running cluster's dashboard inside VS Code. The graph panel (the same
 * app the scheduler serves) shows it: the extension follows the dashboard's WebSocket and passes
 * each message on, so the webview needs no network access of its own. While it follows a
 * cluster, a status bar item shows the cluster's workers and tasks.
 */
import * as vscode from 'vscode';
import type WebSocket from 'ws';
import type { ToWebview } from '../webview/protocol.js';
import { GraphPanel } from './panel.js';

/** The WebSocket of the dashboard at `link` (its page's URL, with its token if it has one). */
export function dashboardSocketUrl(link: string): string {
  const url = new URL(link);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`a dashboard link starts with http:// or https://, got ${JSON.stringify(link)}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/ws';
  return url.toString();
}

/** What the status bar says of a followed cluster. */
export function clusterStatusText(workers: number, threads: number, tasks: number, done: number): string {
  return `$(server-environment) ${workers} worker${workers === 1 ? '' : 's'} (${threads} threads) · ${done}/${tasks} tasks`;
}

let followed: { readonly link: string; readonly socket: WebSocket; readonly item: vscode.StatusBarItem } | undefined;

/** Stops following the cluster shown, if any. */
export function stopFollowing(): void {
  followed?.socket.terminate();
  followed?.item.dispose();
  followed = undefined;
}

/** The status bar text while a cluster is followed (tests read it). */
export function followedStatus(): string | undefined {
  return followed?.item.text;
}

/** Shows the dashboard at `link` in the graph panel; resolves once its first message arrived (false if it never connects). */
export async function openDashboard(context: vscode.ExtensionContext, link: string): Promise<boolean> {
  stopFollowing();
  let address: string;
  try {
    address = dashboardSocketUrl(link);
  } catch (error) {
    void vscode.window.showErrorMessage(`Skein: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  // loaded when first used: activation stays small
  const { default: Socket } = await import('ws');
  const panel = GraphPanel.createOrShow(context);
  panel.setLive(`Skein dashboard: ${new URL(link).host}`);
  const socket = new Socket(address);
  const item = vscode.window.createStatusBarItem('skein.cluster', vscode.StatusBarAlignment.Left, 9);
  item.name = 'Skein cluster';
  item.tooltip = `Skein: the cluster at ${new URL(link).host}; click to show its dashboard`;
  item.command = { command: 'skein.openDashboard', title: 'Open Dashboard', arguments: [link] };
  followed = { link, socket, item };
  let tasks = 0;
  let done = 0;
  let workers = 0;
  let threads = 0;
  const show = (): void => {
    item.text = clusterStatusText(workers, threads, tasks, done);
    item.show();
  };
  return new Promise((resolve) => {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as ToWebview;
      // the panel shows a run now: the cluster is no longer followed
      if (GraphPanel.current?.live !== true) {
        stopFollowing();
        return resolve(false);
      }
      GraphPanel.current.post(message);
      if (message.kind === 'record') {
        tasks = message.record.graph.keys.length;
        done = message.record.tasks.status.filter((s) => s === 'memory').length;
      } else if (message.kind === 'transitions') {
        tasks = message.total;
        done = message.done;
      } else if (message.kind === 'workers') {
        workers = message.workers.length;
        threads = message.workers.reduce((n, w) => n + w.nthreads, 0);
      }
      show();
      resolve(true);
    });
    socket.on('error', (error: Error) => {
      void vscode.window.showErrorMessage(`Skein: cannot follow the dashboard at ${link}: ${error.message}`);
      resolve(false);
    });
    socket.on('close', () => {
      // the cluster is gone (its run ended, or it was closed): the panel keeps what it last showed
      if (followed?.socket === socket) stopFollowing();
      resolve(false);
    });
    panel.onDispose(() => {
      if (followed?.socket === socket) stopFollowing();
    });
  });
}
