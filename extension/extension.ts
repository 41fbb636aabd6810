/**
 * The VS Code extension's entry point (bundled by esbuild to dist/extension.cjs). It only
 * hands over to activateSkein; user code never runs in the extension host (every run is a
 * separate runner process).
 */
import type * as vscode from 'vscode';
import { type SkeinApi, activateSkein } from './activate.js';

export function activate(context: vscode.ExtensionContext): SkeinApi {
  const started = performance.now();
  const api = activateSkein(context);
  const activationMs = performance.now() - started;
  return { ...api, activationMs: () => activationMs };
}

export function deactivate(): void {
  // Everything, running runners included, is disposed through context.subscriptions.
}
