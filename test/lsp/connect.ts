// The language server over stdio for tests, as an editor starts it: dist/languageServer.js
// --stdio, initialized with `initializationOptions`, every published diagnostic kept.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ProtocolConnection, StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node.js';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface TestServer {
  readonly process: ChildProcess;
  readonly conn: ProtocolConnection;
  /** Every publishDiagnostics so far, in order. */
  readonly published: PublishDiagnosticsParams[];
  close(): void;
}

export async function startServer(initializationOptions?: Record<string, unknown>): Promise<TestServer> {
  const server = spawn(process.execPath, [`${root}/dist/languageServer.js`, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  const published: PublishDiagnosticsParams[] = [];
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => published.push(p));
  conn.listen();
  const init = (await conn.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {}, initializationOptions })) as { capabilities: Record<string, unknown> };
  assert.ok(init.capabilities.documentSymbolProvider);
  await conn.sendNotification('initialized', {});
  return {
    process: server,
    conn,
    published,
    close: () => {
      conn.dispose();
      server.kill();
    },
  };
}
