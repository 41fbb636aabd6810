/**
 * Starts the language server for graph files (dist/languageServer.js, over IPC) with
 * vscode-languageclient: problems as you type, the outline, go to definition and references,
 * hover, completion, rename and the Run and Debug lenses. The server reads the source only (it
 * runs nothing), so it works in Restricted Mode too; the lenses' commands refuse there as the
 * others do. Its own bundle (dist/languageClient.cjs), loaded once a graph file is open
 * (languageClientStart.ts), so a workspace without one pays nothing, activation included.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node.js';
import { readSettings } from './settings.js';
import type { RunRecord } from '../runtime/diagnostics/recordSchema.js';
import { phasesOf } from '../runtime/core/phases.js';

/** Graph files by the default naming, and by the skein.graphFiles setting. */
function selector(): LanguageClientOptions['documentSelector'] {
  const patterns = new Set(['**/*.graph.{ts,mts,js,mjs}', readSettings().graphFiles]);
  return [...patterns].map((pattern) => ({ scheme: 'file', pattern }));
}

/** Per task of a recorded run: its time, its share of overhead and its final state (the server's `skein/lastRun`). */
export function lastRunOf(recordFile: string): Record<string, { ms: number | null; overhead: number | null; state: string }> {
  const r = JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord;
  const out: Record<string, { ms: number | null; overhead: number | null; state: string }> = {};
  const t = r.tasks;
  r.graph.keys.forEach((key, i) => {
    const n = (v: number | null | undefined): number => (v == null ? Number.NaN : v);
    const p = phasesOf(n(t.ready[i]), n(t.dispatched[i]), n(t.started[i]), n(t.finished[i]), n(t.received[i]), r.workers[t.worker[i]!]?.startup);
    const overhead = [p.startup, p.transfer, p.result].filter((x) => !Number.isNaN(x)).reduce((a, b) => a + b, 0);
    const ms = Number.isNaN(p.run) ? null : p.run;
    out[key] = { ms, overhead: ms === null || Number.isNaN(p.transfer) ? null : overhead / Math.max(1e-9, overhead + ms), state: t.status[i] ?? 'waiting' };
  });
  return out;
}

export function startLanguageClient(context: vscode.ExtensionContext, finished?: vscode.Event<{ file: string; recordFile?: string }>): LanguageClient {
  const module = path.join(context.extensionPath, 'dist', 'languageServer.js');
  const serverOptions: ServerOptions = { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } };
  const client = new LanguageClient('skein', 'Skein graph files', serverOptions, { documentSelector: selector() });
  void client.start();
  context.subscriptions.push({ dispose: () => void client.stop() });
  // after a run from the editor: each task's time and overhead go to the lenses and the hover
  if (finished !== undefined) {
    context.subscriptions.push(
      finished((run) => {
        if (run.recordFile === undefined || !existsSync(run.recordFile)) return;
        try {
          void client.sendNotification('skein/lastRun', { uri: vscode.Uri.file(run.file).toString(), tasks: lastRunOf(run.recordFile) });
        } catch {
          // a record that cannot be read: the lenses keep what they had
        }
      }),
    );
  }
  return client;
}
