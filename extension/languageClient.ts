/**
 * Starts the language server for graph files (dist/languageServer.js, over IPC) with
 * vscode-languageclient: problems as you type, the outline, go to definition and references,
 * hover, completion, rename and the Run and Debug lenses. The server reads the source, and in a
 * trusted workspace also evaluates the file's top level (a sandboxed process of its own, with the
 * Node.js runs use); in Restricted Mode it evaluates nothing until trust is granted, and the
 * lenses' commands refuse there as the others do. Its own bundle (dist/languageClient.cjs), loaded once a graph file is open
 * (languageClientStart.ts), so a workspace without one pays nothing, activation included.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node.js';
import { nodeExecutable, readSettings } from './settings.js';
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

let started: Promise<LanguageClient> | undefined;

/** The running client, once it has started; undefined before a graph file was opened. */
export function runningClient(): Promise<LanguageClient> | undefined {
  return started;
}

/** Where `key` is defined in `graphFile`, as the server reads it; undefined when it cannot say. */
export async function keyRange(graphFile: string, key: string): Promise<vscode.Range | undefined> {
  const client = await started;
  if (client === undefined) return undefined;
  const r = (await client.sendRequest('skein/keyRange', { uri: vscode.Uri.file(graphFile).toString(), key })) as { start: { line: number; character: number }; end: { line: number; character: number } } | null;
  return r === null ? undefined : new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function startLanguageClient(context: vscode.ExtensionContext, finished?: vscode.Event<{ file: string; recordFile?: string }>): LanguageClient {
  const module = path.join(context.extensionPath, 'dist', 'languageServer.js');
  const serverOptions: ServerOptions = { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } };
  const client = new LanguageClient('skein', 'Skein graph files', serverOptions, {
    documentSelector: selector(),
    initializationOptions: { evaluate: vscode.workspace.isTrusted, node: nodeExecutable(readSettings()) },
  });
  started = client.start().then(() => client);
  context.subscriptions.push(
    { dispose: () => void client.stop() },
    vscode.workspace.onDidGrantWorkspaceTrust(() => void client.sendNotification('skein/evaluate', { on: true })),
  );
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
