/**
 * The VS Code extension's entry point (bundled by esbuild to dist/extension.cjs). For now it only
 * opens the "Skein" output channel and says which runtime it carries; the run and debug
 * commands arrive with the extension issue. User code never runs in the extension host.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Skein');
  context.subscriptions.push(output);
  output.appendLine(`Skein runtime: ${vscode.Uri.joinPath(context.extensionUri, 'dist', 'runtime').fsPath}`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
