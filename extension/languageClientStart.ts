/**
 * Starts the language client (dist/languageClient.cjs, a bundle of its own: the extension's own
 * bundle stays small and activates fast) once a graph file is, or becomes, open in an editor.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

function clientModule(context: vscode.ExtensionContext): typeof import('./languageClient.js') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, by path
  return require(path.join(context.extensionPath, 'dist', 'languageClient.cjs')) as typeof import('./languageClient.js');
}

/**
 * Where `key` is defined in `graphFile`, as the language server reads it (opening the file, which
 * starts the server if it was not); undefined when it cannot say (a key it does not see).
 */
export async function keyDefinition(context: vscode.ExtensionContext, graphFile: string, key: string): Promise<vscode.Range | undefined> {
  await vscode.workspace.openTextDocument(vscode.Uri.file(graphFile));
  startNow?.();
  return clientModule(context).keyRange(graphFile, key);
}

/** Starts the client now, if it has not started (set once the extension is active). */
let startNow: (() => void) | undefined;

export function startWhenGraphFilesOpen(context: vscode.ExtensionContext, isGraphFile: (file: string) => boolean, finished: vscode.Event<{ file: string; recordFile?: string }>): void {
  let started = false;
  startNow = (): void => {
    if (started) return;
    started = true;
    clientModule(context).startLanguageClient(context, finished);
  };
  const check = (doc: vscode.TextDocument): void => {
    if (doc.uri.scheme === 'file' && isGraphFile(doc.uri.fsPath)) startNow!();
  };
  vscode.workspace.textDocuments.forEach(check);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(check));
}
