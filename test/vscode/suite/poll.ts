// Waiting in the in-VS Code tests for what happens elsewhere (a debug session, the language
// server, the panel): the tests' shared polling helper (test/until.ts), given 30 s here, as a
// debug session or a language server in a fresh code-server may take.
import { until as poll } from '../../until.js';

export function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  return poll(what, probe, ms);
}
