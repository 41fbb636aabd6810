// The language server over stdio, driven with LSP messages as an editor would: diagnostics at
// their ranges with their fixes, symbols by key group, definition and references, hover,
// completion, rename and the lenses, on test/data/lsp.graph.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { ProtocolConnection } from 'vscode-languageserver-protocol/node.js';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { type TestServer, root, startServer } from './connect.js';

const file = join(root, 'test/data/lsp.graph.mjs');
const uri = pathToFileURL(file).href;
const text = readFileSync(file, 'utf8');
const lines = text.split('\n');

/** The range of the `n`th occurrence (from 1) of `needle` on the first line that has it, as LSP counts. */
function rangeOf(needle: string, on = needle, n = 1): { start: { line: number; character: number }; end: { line: number; character: number } } {
  let seen = 0;
  for (let line = 0; line < lines.length; line++) {
    if (!lines[line]!.includes(on)) continue;
    if (++seen < n) continue;
    const character = lines[line]!.indexOf(needle);
    return { start: { line, character }, end: { line, character: character + needle.length } };
  }
  throw new Error(`no ${on}`);
}

describe('language server (LSP over stdio)', () => {
  let server: TestServer;
  let conn: ProtocolConnection;
  let published: PublishDiagnosticsParams[] = [];
  const diagnosticsFor = async (version: number): Promise<Diagnostic[]> => {
    for (let i = 0; i < 200; i++) {
      const p = published.filter((x) => x.uri === uri).at(-1);
      if (p !== undefined && (version === 0 || published.filter((x) => x.uri === uri).length > version)) return p.diagnostics;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no diagnostics published');
  };

  before(async () => {
    server = await startServer();
    conn = server.conn;
    published = server.published;
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text } });
  });
  after(() => server?.close());

  it('publishes each problem at its range, with its fix where there is one', async () => {
    const d = await diagnosticsFor(0);
    const shown = d.map((x) => [x.code, x.severity, x.range.start.line + 1, x.message]);
    assert.deepEqual(shown, [
      ['near-miss', 2, rangeOf('load-soutth').start.line + 1, '"load-soutth" is not a key, so the task gets it as a plain string; did you mean `load-south`?'],
      ['cycle', 1, rangeOf('report').start.line + 1, 'Cycle: report → summary → report. A task cannot depend on itself, directly or through others; no scheduler can run these.'],
      ['cycle', 1, rangeOf('summary', 'summary: [').start.line + 1, 'Cycle: report → summary → report. A task cannot depend on itself, directly or through others; no scheduler can run these.'],
      ['not-a-function', 1, rangeOf("'clean'", 'listed').start.line + 1, '"listed" starts with the string "clean", not the function clean: a task is [function, ...arguments], so this is a plain list and clean never runs. Write clean without quotes.'],
      ['duplicate-key', 1, rangeOf('clean-north', "'clean-north': [clean", 2).start.line + 1, 'Duplicate key "clean-north": the graph keeps only this one, and the task defined above is lost. Rename one of them.'],
    ]);
    // exact ranges: the typo inside its quotes, the quoted name with its quotes
    assert.deepEqual(d[0]!.range, rangeOf('load-soutth'));
    assert.deepEqual(d[3]!.range, rangeOf("'clean'", 'listed'));
    const actions = (await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: d[0]!.range, context: { diagnostics: [d[0]!, d[3]!] } })) as Array<{ title: string; edit: { changes: Record<string, Array<{ newText: string }>> } }>;
    assert.deepEqual(actions.map((a) => [a.title, a.edit.changes[uri]![0]!.newText]), [['Change to "load-south"', 'load-south'], ['Use the function clean', 'clean']]);
  });

  it('lists the tasks by key group in the outline, keys made in a loop one by one', async () => {
    const symbols = (await conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri } })) as Array<{ name: string; children?: Array<{ name: string }> }>;
    assert.deepEqual(
      symbols.map((s) => [s.name, (s.children ?? []).map((c) => c.name)]),
      [
        ['load', ['load-north', 'load-south', 'load-east']],
        ['clean', ['clean-north', 'clean-south', 'clean-north']],
        ['report', []],
        ['summary', []],
        ['listed', []],
      ],
    );
  });

  it('goes from a key string to its task, and finds where a key is used', async () => {
    const use = rangeOf('load-north', "'clean-north': [clean, 'load-north']");
    const def = (await conn.sendRequest('textDocument/definition', { textDocument: { uri }, position: use.start })) as Array<{ range: unknown }>;
    assert.deepEqual(def.map((l) => l.range), [rangeOf('load-north')]);
    // keys made in a loop over a list are known one by one: the typo is not one of them
    const typo = (await conn.sendRequest('textDocument/definition', { textDocument: { uri }, position: rangeOf('load-soutth').start })) as unknown[];
    assert.deepEqual(typo, []);
    const refs = (await conn.sendRequest('textDocument/references', { textDocument: { uri }, position: rangeOf('load-north').start, context: { includeDeclaration: true } })) as Array<{ range: { start: { line: number } } }>;
    assert.deepEqual(refs.map((r) => r.range.start.line + 1), [rangeOf('load-north').start.line + 1, rangeOf('load-north', "'clean-north': [clean, 'load-north']").start.line + 1, rangeOf('load-north', 'listed').start.line + 1, rangeOf('load-north', "'clean-north': [clean, 'load-north']", 2).start.line + 1]);
  });

  it('hovers a key with its group, function, dependencies and dependents', async () => {
    const hover = (await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: rangeOf('clean-north').start })) as { contents: { value: string } };
    assert.equal(hover.contents.value, '**clean-north** · group `clean` · calls `clean`\n\ndepends on: `load-north`\n\ndependents: `report`');
  });

  it('completes key names inside the strings of a task', async () => {
    const r = rangeOf('summary', "report: [total");
    const items = (await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: r.start })) as Array<{ label: string }>;
    assert.deepEqual(items.map((i) => i.label).sort(), ['clean-north', 'clean-south', 'listed', 'load-east', 'load-north', 'load-south', 'report', 'summary']);
    const outside = (await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 0, character: 3 } })) as unknown[];
    assert.deepEqual(outside, []);
  });

  it('renames a key where it is defined and wherever it is named', async () => {
    const edit = (await conn.sendRequest('textDocument/rename', { textDocument: { uri }, position: rangeOf('load-north').start, newName: 'load-n' })) as { changes: Record<string, Array<{ range: { start: { line: number; character: number } }; newText: string }>> };
    const edits = edit.changes[uri]!;
    assert.equal(edits.length, 4);
    for (const e of edits) assert.equal(lines[e.range.start.line]!.slice(e.range.start.character, e.range.start.character + 'load-north'.length), 'load-north');
  });

  it('offers Run, Debug and Show Graph above the default export, and Debug this task above each task', async () => {
    const lenses = (await conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as Array<{ range: { start: { line: number } }; command: { title: string; command: string; arguments: unknown[] } }>;
    const top = lenses.filter((l) => l.range.start.line === rangeOf('export default graph').start.line);
    assert.deepEqual(top.map((l) => l.command.title), ['Run with Threads', 'Run with Processes', 'Debug', 'Show Graph']);
    const perTask = lenses.filter((l) => l.command.title === 'Debug this task').map((l) => l.command.arguments[1]);
    assert.deepEqual(perTask, ['load-north', 'clean-north', 'clean-south', 'report', 'summary', 'listed', 'clean-north', 'load-south', 'load-east']);
  });

  it("shows each task's time and overhead from the latest run, once the editor sends it, in the lenses and the hover", async () => {
    await conn.sendNotification('skein/lastRun', { uri, tasks: { 'clean-north': { ms: 12.4, overhead: 0.03, state: 'memory' }, report: { ms: 250.2, overhead: null, state: 'erred' } } });
    const titles = async () => ((await conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as Array<{ command: { title: string; command: string } }>).filter((l) => l.command.command === '').map((l) => l.command.title);
    let shown: string[] = [];
    for (let i = 0; i < 100 && shown.length === 0; i++) {
      shown = await titles();
      if (shown.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(shown, ['12.4 ms · 3 % overhead', '250 ms', '12.4 ms · 3 % overhead']);
    const hover = (await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: rangeOf('clean-north').start })) as { contents: { value: string } };
    assert.match(hover.contents.value, /\n\nlatest run: memory, 12\.4 ms · 3 % overhead$/);
  });

  it('analyses again once edits settle: a fixed typo goes from the problems', async () => {
    const before = published.filter((x) => x.uri === uri).length;
    const r = rangeOf('load-soutth');
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: r, text: 'load-south' }] });
    const d = await diagnosticsFor(before);
    assert.ok(!d.some((x) => x.code === 'near-miss'), JSON.stringify(d));
    assert.equal(d.filter((x) => x.code === 'cycle').length, 2);
  });
});
