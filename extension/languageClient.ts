/**
 * Starts the language server for graph files (dist/languageServer.js, over IPC) with
 * vscode-languageclient: problems as you type, the outline, go to definition and references,
 * hover, completion, rename and the Run and Debug lenses. The server reads the source only (it
 * runs nothing), so it works in Restricted Mode too; the lenses' commands refuse there as the
 * others do. Its own bundle (dist/languageClient.cjs), loaded once a graph file is open
 * (languageClientStart.ts), so a workspace without one pays nothing, activation included.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node.js';
import { readSettings } from './settings.js';

/** Graph files by the default naming, and by the skein.graphFiles setting. */
function selector(): LanguageClientOptions['documentSelector'] {
  const patterns = new Set(['**/*.graph.{ts,mts,js,mjs}', readSettings().graphFiles]);
  return [...patterns].map((pattern) => ({ scheme: 'file', pattern }));
}

export function startLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = path.join(context.extensionPath, 'dist', 'languageServer.js');
  const serverOptions: ServerOptions = { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } };
  const client = new LanguageClient('skein', 'Skein graph files', serverOptions, { documentSelector: selector() });
  void client.start();
  context.subscriptions.push({ dispose: () => void client.stop() });
  return client;
}
