/**
 * Starts the language client (dist/languageClient.cjs, a bundle of its own: the extension's own
 * bundle stays small and activates fast) once a graph file is, or becomes, open in an editor.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

export function startWhenGraphFilesOpen(context: vscode.ExtensionContext, isGraphFile: (file: string) => boolean, finished: vscode.Event<{ file: string; recordFile?: string }>): void {
  let started = false;
  const check = (doc: vscode.TextDocument): void => {
    if (started || doc.uri.scheme !== 'file' || !isGraphFile(doc.uri.fsPath)) return;
    started = true;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, by path
    const client = require(path.join(context.extensionPath, 'dist', 'languageClient.cjs')) as typeof import('./languageClient.js');
    client.startLanguageClient(context, finished);
  };
  vscode.workspace.textDocuments.forEach(check);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(check));
}
