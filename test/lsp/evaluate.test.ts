// The language server's evaluation of graph files (a sandboxed process with a time limit), over
// stdio: keys made by code the parser cannot follow, heads that are no functions once the file
// loads, a cycle only the built graph shows, a file that does not load (at the line that failed,
// in the file or in a module it imports, or an import that does not resolve), the sandbox, the
// time limit, no evaluation until the client allows it, and no evaluator left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { type TestServer, root, startServer } from './connect.js';
import { until } from '../until.js';

const dir = join(root, 'test/data/lsp');
let unsaved = 0;

/** Opens `text` as an unsaved graph file in test/data/lsp (it exists only in the editor); its uri. */
async function open(server: TestServer, text: string, name = `unsaved-${++unsaved}.graph.ts`): Promise<string> {
  const uri = pathToFileURL(join(dir, name)).href;
  await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  return uri;
}

/** The latest diagnostics of `uri` once `done` holds for them. */
function diagnostics(server: TestServer, uri: string, done: (d: Diagnostic[]) => boolean, what: string): Promise<Diagnostic[]> {
  return until(what, () => {
    const d = server.published.filter((p) => p.uri === uri).at(-1)?.diagnostics;
    return d !== undefined && done(d) ? d : undefined;
  });
}

const shown = (d: Diagnostic[]): unknown[] => d.map((x) => [x.code, x.severity, x.range.start.line, x.range.start.character, x.message]);

/** Evaluator processes running now (their command lines). */
function evaluators(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'lspEvaluator.js'], { encoding: 'utf8' }).trim().split('\n').filter((l) => l.includes('--allow-fs-read'));
  } catch {
    return [];
  }
}

describe('language server: evaluating graph files', () => {
  let server: TestServer;
  before(async () => (server = await startServer()));
  after(() => server?.close());

  it('knows keys made by code and heads that are no functions once the file loads', async () => {
    const file = join(dir, 'dynamic.graph.ts');
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const uri = await open(server, text, 'dynamic.graph.ts');
    const d = await diagnostics(server, uri, (x) => x.length > 0, 'the evaluated diagnostics');
    const at = (needle: string): [number, number] => {
      const line = lines.findIndex((l) => l.includes(needle));
      return [line, lines[line]!.indexOf(needle)];
    };
    // part-1 … part-3 are one edit from part-0, but they are keys: no "did you mean" (the parser alone says it)
    assert.deepEqual(shown(d), [
      ['not-a-function', 1, ...at('registry.totl'), 'registry.totl is undefined when dynamic.graph.ts loads. Task "summed" has undefined at its head; a task is [fn, ...args] with a function first. Check that the function is defined and exported where you import it.'],
      ['not-a-function', 1, ...at('registry.limits'), 'registry.limits is an object (Object) when dynamic.graph.ts loads, not a function, so "capped" is a plain list and nothing runs for it. Check what registry.limits names (its import, its spelling).'],
    ]);
    assert.equal(server.published.filter((p) => p.uri === uri).length, 1, 'a file just opened shows its problems once, evaluated');
    // completion in a task's arguments offers the keys code made
    const [line, character] = at("'part-1'");
    const items = (await server.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line, character: character + 2 } })) as Array<{ label: string; detail: string }>;
    assert.deepEqual(
      items.filter((i) => i.label.startsWith('part-')).map((i) => [i.label, i.detail]),
      [['part-0', 'part · ops.load'], ['part-1', 'made by code'], ['part-2', 'made by code'], ['part-3', 'made by code']],
    );
  });

  it('marks a file that throws as it loads on the line that threw', async () => {
    const uri = await open(server, ["import { load } from './ops.js';", '', 'const year = 2026;', "if (year > 2000) throw new Error('no data for 2026');", 'export default { a: [load, 1] };', ''].join('\n'));
    const d = await diagnostics(server, uri, (x) => x.length > 0, 'the load error');
    assert.deepEqual(shown(d), [['load', 1, 3, 23, `unsaved-${unsaved}.graph.ts does not load: no data for 2026`]]);
    assert.equal(d[0]!.range.end.character, "if (year > 2000) throw new Error('no data for 2026');".length);
  });

  it('marks an import that does not resolve, and one whose module throws, on the import', async () => {
    let uri = await open(server, ["import { load } from './ops.js';", "import { clean } from './missing.js';", 'export default { a: [load, 1], b: [clean, "a"] };', ''].join('\n'));
    let d = await diagnostics(server, uri, (x) => x.length > 0, 'the unresolved import');
    assert.deepEqual(shown(d), [['load', 1, 1, 22, `unsaved-${unsaved}.graph.ts does not load: Could not resolve "./missing.js": no such file or package from unsaved-${unsaved}.graph.ts's folder.`]]);
    uri = await open(server, ["import { load } from './ops.js';", "import { settings } from './throws.js';", 'export default { a: [load, settings] };', ''].join('\n'));
    d = await diagnostics(server, uri, (x) => x.length > 0, 'the error of an imported module');
    assert.deepEqual(shown(d), [['load', 1, 1, 0, `unsaved-${unsaved}.graph.ts does not load: Unexpected end of JSON input (at throws.ts:2)`]]);
  });

  it('finds a cycle through keys that only the built graph has', async () => {
    const text = [
      "import { load } from './ops.js';",
      "const order = ['a', 'b'].map((x) => x);",
      'const graph: Record<string, unknown[]> = {};',
      'order.forEach((r, i) => {',
      '  graph[`step-${r}`] = [load, `step-${order[(i + 1) % order.length]}`];',
      '});',
      'export default graph;',
      '',
    ].join('\n');
    const uri = await open(server, text);
    const d = await diagnostics(server, uri, (x) => x.length > 0, 'the cycle');
    assert.deepEqual(shown(d), [['cycle', 1, 4, 9, 'Cycle: step-a -> step-b -> step-a. A task cannot depend on itself, directly or through others; no scheduler can run these.'.replaceAll(' -> ', ' → ')]]);
  });

  it('runs the file where it cannot write files or start processes', async () => {
    const target = join(tmpdir(), `skein-lsp-sandbox-${process.pid}.txt`);
    const uri = await open(server, ["import { writeFileSync } from 'node:fs';", `writeFileSync(${JSON.stringify(target)}, 'written');`, 'export default { a: 1 };', ''].join('\n'));
    const d = await diagnostics(server, uri, (x) => x.length > 0, 'the sandbox refusal');
    assert.deepEqual(shown(d), [
      ['evaluation', 3, 2, 0, `unsaved-${unsaved}.graph.ts writes a file, starts a process or a thread, or loads an addon as it loads, which the editor's check does not let it do (it runs the file in a sandbox); the problems shown come from reading the source only.`],
    ]);
    assert.equal(existsSync(target), false);
  });
});

describe('language server: evaluation limits', () => {
  it('stops a file that takes longer than the time limit, and leaves no evaluator behind', async () => {
    const server = await startServer({ evaluationTimeoutMs: 1000 });
    try {
      const uri = await open(server, ["import { load } from './ops.js';", 'await new Promise((r) => setTimeout(r, 60_000));', 'export default { a: [load, 1] };', ''].join('\n'));
      const d = await diagnostics(server, uri, (x) => x.length > 0, 'the time limit');
      assert.deepEqual(shown(d), [
        ['evaluation', 2, 2, 0, `Loading unsaved-${unsaved}.graph.ts to check it took longer than 1 s, so Skein stopped it; the problems shown come from reading the source only. Does the file wait for something as it loads (a top-level await, a server)?`],
      ]);
      assert.deepEqual(evaluators(), []);
    } finally {
      server.close();
    }
  });

  it('evaluates nothing until the client allows it (an untrusted workspace)', async () => {
    const server = await startServer({ evaluate: false });
    try {
      const uri = await open(server, ["throw new Error('ran');", 'export default { a: 1 };', ''].join('\n'));
      await diagnostics(server, uri, (x) => x.length === 0, 'the diagnostics from the source');
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(shown(server.published.filter((p) => p.uri === uri).at(-1)!.diagnostics), []);
      // trust granted: the client says so, and the open files are evaluated
      await server.conn.sendNotification('skein/evaluate', { on: true });
      const d = await diagnostics(server, uri, (x) => x.length > 0, 'the load error once evaluation is on');
      assert.deepEqual(shown(d), [['load', 1, 0, 6, `unsaved-${unsaved}.graph.ts does not load: ran`]]);
    } finally {
      server.close();
    }
  });

  it('ends an evaluation in progress when the server is killed; the next server removes its bundle', async () => {
    const server = await startServer();
    await open(server, ['await new Promise((r) => setTimeout(r, 60_000));', 'export default { a: 1 };', ''].join('\n'));
    await until('an evaluator running', () => (evaluators().length > 0 ? true : undefined));
    const pid = server.process.pid!;
    const bundles = (): string[] => readdirSync(join(tmpdir(), `skein-lsp-${process.getuid!()}`)).filter((f) => f.startsWith(`${pid}-`));
    assert.equal(bundles().length, 1);
    server.process.kill('SIGKILL');
    server.conn.dispose();
    await until('no evaluator left', () => (evaluators().length === 0 ? true : undefined));
    const next = await startServer();
    try {
      const uri = await open(next, ["throw new Error('next');", 'export default {};', ''].join('\n'));
      await diagnostics(next, uri, (x) => x.length > 0, 'the next evaluation');
      assert.deepEqual(bundles(), []);
    } finally {
      next.close();
    }
  });
});
