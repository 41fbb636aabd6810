// In-VS Code tests: run inside the real extension host (code-server here, VS Code desktop with
// test:electron), against the built bundle, on a temporary workspace holding graph files.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { until } from './poll.js';
import type { SkeinApi } from '../../../extension/activate.js';
import type { RunInfo } from '../../../extension/runs.js';

const workspace = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const file = (name: string): vscode.Uri => vscode.Uri.file(path.join(workspace(), name));


async function api(): Promise<SkeinApi> {
  const ext = vscode.extensions.getExtension<SkeinApi>('skein.skein');
  assert.ok(ext, 'the Skein extension is installed');
  return ext.activate();
}

/** True while `pid` runs (a zombie, killed but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Worker processes (children running processWorker.js) of `pid`. */
function workerPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('processWorker'))
      .map((l) => Number(l.trim().split(' ')[0]));
  } catch {
    return [];
  }
}

suite('Skein in VS Code', () => {
  let skein: SkeinApi;

  suiteSetup(async () => {
    skein = await api();
  });

  test('activates in under 200 ms from a bundle under 1 MB', () => {
    const ms = skein.activationMs!();
    const bundle = statSync(path.join(vscode.extensions.getExtension('skein.skein')!.extensionPath, 'dist', 'extension.cjs')).size;
    console.log(`    activation: ${ms.toFixed(1)} ms; dist/extension.cjs: ${(bundle / 1024).toFixed(1)} KiB`);
    assert.ok(ms < 200, `activation took ${ms} ms`);
    assert.ok(bundle < 1024 * 1024, `bundle is ${bundle} bytes`);
  });

  for (const [command, scheduler, workers] of [
    ['skein.runSync', 'sync', '1 worker'],
    ['skein.runThreads', 'threads', '2 workers'],
    ['skein.runProcesses', 'processes', '2 workers'],
    ['skein.runDistributed', 'distributed', '2 workers'],
  ] as const) {
    test(`${command} runs the example and reports results and a summary`, async () => {
      const doc = await vscode.workspace.openTextDocument(file('etl.graph.ts'));
      await vscode.window.showTextDocument(doc);
      const before = skein.transcript().length;
      const run = (await vscode.commands.executeCommand(command)) as RunInfo;
      assert.equal(run.status, 'ok', run.message);
      assert.equal(run.scheduler, scheduler);
      assert.equal(run.tasks, 22);
      const text = skein.transcript().slice(before);
      assert.match(text, new RegExp(`^\\n?\\$ skein run etl\\.graph\\.ts --scheduler ${scheduler}( --num-workers 2)?\\n`));
      assert.match(text, /\nreport: \{\n {2}total: 947561\.24,\n {2}best: 'south',/);
      assert.match(text, new RegExp(`\\n✓ 22 tasks in [\\d.]+ (ms|s) · ${scheduler} scheduler · ${workers}$`));
      assert.match(skein.statusText(), /^\$\(pass\) Skein 22 tasks · [\d.]+ (ms|s)$/);
      assert.equal(skein.runs()[0]!.id, run.id, 'the newest run is first in the runs view');
    });
  }

  test('the language server marks a mistyped key in the Problems view, and its Run with Threads lens runs the file', async () => {
    const uri = file('typo.graph.ts');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const text = (await vscode.workspace.openTextDocument(uri)).getText().split('\n');
    const line = text.findIndex((l) => l.includes("'load-soutth'"));
    const found = await until('the language server to mark the typo', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'skein'));
    assert.equal(found.message, '"load-soutth" is not a key, so the task gets it as a plain string; did you mean `load-south`?');
    assert.equal(found.severity, vscode.DiagnosticSeverity.Warning);
    assert.deepEqual([found.range.start.line, found.range.start.character, found.range.end.character], [line, text[line]!.indexOf('load-soutth'), text[line]!.indexOf('load-soutth') + 'load-soutth'.length]);
    // its quick fix
    const fixes = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, found.range)) as vscode.CodeAction[];
    assert.ok(fixes.some((f) => f.title === 'Change to "load-south"'), fixes.map((f) => f.title).join(', '));
    // the lens above the default export, as a click runs it
    const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) as vscode.CodeLens[];
    const run = lenses.find((l) => l.command?.title === 'Run with Threads');
    assert.ok(run?.command, lenses.map((l) => l.command?.title).join(', '));
    const result = (await vscode.commands.executeCommand(run.command.command, ...(run.command.arguments ?? []))) as RunInfo;
    assert.equal(result.status, 'ok', result.message);
    assert.equal(path.basename(result.file), 'typo.graph.ts');
    assert.equal(result.tasks, 2);
    // after the run, each task's time (and its share of overhead) above it, and in its hover
    const timed = await until('the lenses to show the run', async () => {
      const titles = ((await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) as vscode.CodeLens[]).map((l) => l.command?.title ?? '');
      const t = titles.filter((x) => /^[\d.]+ ms( · \d+ % overhead)?$/.test(x));
      return t.length === 2 ? t : undefined;
    });
    assert.equal(timed.length, 2);
    const at = new vscode.Position(text.findIndex((l) => l.includes("'clean-south'")), text[text.findIndex((l) => l.includes("'clean-south'"))]!.indexOf('clean-south'));
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, at)) as vscode.Hover[];
    const said = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(said, /latest run: memory, [\d.]+ ms/);
  });

  test("the language server evaluates a graph file: one that throws as it loads is marked on the line that threw", async () => {
    const target = path.join(workspace(), 'broken.graph.ts');
    writeFileSync(target, ["export const load = (n: number): number => n;", "const rows: number[] = JSON.parse('[1, 2');", 'export default { total: [load, rows.length] };', ''].join('\n'));
    try {
      const uri = vscode.Uri.file(target);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const found = await until('the load error in the Problems view', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'skein'));
      assert.equal(found.code, 'load');
      assert.equal(found.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(found.range.start.line, 1);
      assert.match(found.message, /^broken\.graph\.ts does not load: .*JSON/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      rmSync(target, { force: true });
    }
  });

  test("Reveal in Editor goes where the graph file defines the key (the language server's reading), else to the task's function", async () => {
    const graphFile = file('typo.graph.ts').fsPath;
    const text = readFileSync(graphFile, 'utf8').split('\n');
    const line = text.findIndex((l) => l.includes("'clean-south'"));
    assert.equal(await vscode.commands.executeCommand('skein.panel.revealTask', { key: 'clean-south', graphFile, file: graphFile, line: 4 }), 'key');
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.fsPath, graphFile);
    assert.deepEqual([editor.selection.start.line, editor.selection.start.character, editor.selection.end.character], [line, text[line]!.indexOf('clean-south'), text[line]!.indexOf('clean-south') + 'clean-south'.length]);
    // a key the file does not define (a run's record of another version): the function's line
    assert.equal(await vscode.commands.executeCommand('skein.panel.revealTask', { key: 'clean-west', graphFile, file: graphFile, line: 4 }), 'function');
    assert.equal(vscode.window.activeTextEditor!.selection.start.line, 3);
  });

  test("Add the Skein Package gives TypeScript the types of 'skein' in a workspace without them", async function () {
    this.timeout(120_000);
    const uri = file('typed.graph.ts');
    await vscode.window.showTextDocument(uri);
    const missing = (): boolean => vscode.languages.getDiagnostics(uri).some((d) => /Cannot find module 'skein'/.test(d.message));
    const eventually = async (check: () => boolean, ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !check()) await new Promise((r) => setTimeout(r, 250));
      return check();
    };
    assert.ok(await eventually(missing, 60_000), "TypeScript reports that 'skein' cannot be found");
    const target = (await vscode.commands.executeCommand('skein.addPackage', uri)) as string;
    assert.equal(target, path.join(workspace(), 'node_modules', 'skein'));
    assert.ok(statSync(path.join(target, 'dist', 'types', 'runtime', 'index.d.ts')).isFile());
    await vscode.commands.executeCommand('typescript.restartTsServer');
    assert.ok(await eventually(() => !missing(), 60_000), 'the error is gone once the package is there');
  });

  test('a failing task shows its key and stack, and a diagnostic at the line that threw', async () => {
    const uri = file('failing.graph.ts');
    const before = skein.transcript().length;
    const run = (await vscode.commands.executeCommand('skein.runThreads', uri)) as RunInfo;
    assert.equal(run.status, 'failed');
    const text = skein.transcript().slice(before);
    assert.match(text, /\n✗ Task "parse-b" failed: cannot parse b:1,2,3\n {2}finished before the failure: [^\n]*\nError: cannot parse b:1,2,3\n {4}at parse \(/);
    assert.ok(text.includes(`${uri.fsPath}:8:11)`), text);
    const diagnostics = vscode.languages.getDiagnostics(uri);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.message, 'Task "parse-b" failed: cannot parse b:1,2,3');
    assert.equal(diagnostics[0]!.range.start.line, 7);
    assert.equal(diagnostics[0]!.source, 'skein');
    assert.match(skein.statusText(), /^\$\(error\) Skein failed$/);
  });

  test('Stop Run kills the runner and its worker processes', async () => {
    const pending = vscode.commands.executeCommand('skein.runProcesses', file('slow.graph.ts')) as Thenable<RunInfo>;
    let runner = 0;
    let workers: number[] = [];
    for (let i = 0; i < 200 && workers.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runner = skein.runs()[0]?.pid ?? 0;
      if (runner > 0) workers = workerPids(runner);
    }
    assert.ok(runner > 0 && alive(runner), 'the runner started');
    assert.equal(workers.length, 2, 'two worker processes started');
    await vscode.commands.executeCommand('skein.stopRun');
    const run = await pending;
    assert.equal(run.status, 'stopped');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!alive(runner), 'the runner is gone');
    for (const pid of workers) assert.ok(!alive(pid), `worker ${pid} is gone`);
    assert.match(skein.transcript(), /\n■ stopped after [\d.]+ (ms|s)$/);
  });

  test('Open Dashboard follows the cluster of a distributed run: the panel shows it live, the status bar its workers', async () => {
    const pending = vscode.commands.executeCommand('skein.runDistributed', file('slow.graph.ts')) as Thenable<RunInfo>;
    let link: string | undefined;
    for (let i = 0; i < 300 && link === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      link = skein.runs()[0]?.dashboardLink;
    }
    assert.match(link ?? '', /^http:\/\/127\.0\.0\.1:\d+\/status$/);
    assert.ok(skein.transcript().includes(`dashboard: ${link} (Skein: Open Dashboard shows it here)`));
    assert.equal(await vscode.commands.executeCommand('skein.openDashboard', link), true);
    // the example's sizing on this machine's cores; 8 sleeps of 5 s and their total: none done yet
    // (the first message may come before the scheduler has the graph: wait for the whole picture)
    const expected = /^\$\(server-environment\) [1-9]\d* workers? \(\d+ threads\) · 0\/9 tasks$/;
    let status = '';
    for (let i = 0; i < 100 && !expected.test(status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = skein.clusterStatus() ?? '';
    }
    assert.match(status, expected);
    let rendered = skein.panelRendered();
    // the 8 sleeps show as running once a worker thread starts them (ready while they wait for one)
    for (let i = 0; i < 100 && (rendered?.tasks !== 9 || !((rendered?.states.running ?? 0) > 0)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      rendered = skein.panelRendered();
    }
    assert.equal(rendered?.tasks, 9, 'the panel drew the cluster\'s 9 tasks');
    assert.ok((rendered?.states.running ?? 0) > 0, JSON.stringify(rendered?.states));
    await vscode.commands.executeCommand('skein.stopRun');
    assert.equal((await pending).status, 'stopped');
    for (let i = 0; i < 50 && skein.clusterStatus() !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(skein.clusterStatus(), undefined, 'the status bar item goes with the cluster');
  });

  test('a runner that dies leaves VS Code usable and says so', async () => {
    const run = (await vscode.commands.executeCommand('skein.runSync', file('crash.graph.ts'))) as RunInfo;
    assert.equal(run.status, 'failed');
    assert.equal(run.message, 'The runner exited unexpectedly (exit code 7).');
    const again = (await vscode.commands.executeCommand('skein.runSync', file('etl.graph.ts'))) as RunInfo;
    assert.equal(again.status, 'ok');
  });

  test('the graph panel shows the graph, then the run live, then its final states', async () => {
    const uri = file('etl.graph.ts');
    assert.equal(await vscode.commands.executeCommand('skein.showGraph', uri), true);
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(ok(), `timed out waiting for ${what}: ${JSON.stringify(skein.panelRendered())}`);
    };
    await until('the graph before the run', () => skein.panelRendered()?.tasks === 22 && skein.panelRendered()?.states.waiting === 22);
    assert.equal(skein.panelRendered()!.nodes, 22);
    const run = (await vscode.commands.executeCommand('skein.runThreads', uri)) as RunInfo;
    assert.equal(run.status, 'ok');
    await until('the final states', () => skein.panelRendered()?.states.memory === 1 && skein.panelRendered()?.states.released === 21);
    assert.deepEqual(skein.panelRendered()!.states, { waiting: 0, ready: 0, running: 0, memory: 1, released: 21, erred: 0 });
  });

  test('the runs view lists recent runs and can re-run one', async () => {
    const runs = [...skein.runs()];
    assert.ok(runs.length >= 6);
    assert.deepEqual(
      runs.slice(0, 3).map((r) => [path.basename(r.file), r.scheduler, r.status]),
      [
        ['etl.graph.ts', 'threads', 'ok'],
        ['etl.graph.ts', 'sync', 'ok'],
        ['crash.graph.ts', 'sync', 'failed'],
      ],
    );
    const rerun = (await vscode.commands.executeCommand('skein.rerun', runs[0])) as RunInfo;
    assert.equal(rerun.status, 'ok');
    assert.notEqual(rerun.id, runs[0]!.id);
  });

  test('a run stopped while the panel follows it: the panel says stopped and shows nothing running', async () => {
    const pending = vscode.commands.executeCommand('skein.runThreads', file('slow.graph.ts')) as Thenable<RunInfo>;
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(ok(), `timed out waiting for ${what}: ${JSON.stringify(skein.panelRendered())}`);
    };
    await until('the sleeps running', () => skein.panelRendered()?.tasks === 9 && (skein.panelRendered()?.states.running ?? 0) > 0);
    assert.equal(skein.panelRendered()!.title, 'Skein: slow.graph.ts (running)');
    await vscode.commands.executeCommand('skein.stopRun');
    assert.equal((await pending).status, 'stopped');
    await until('the panel to say stopped', () => skein.panelRendered()?.title === 'Skein: slow.graph.ts (threads, stopped)');
    assert.deepEqual(skein.panelRendered()!.states, { waiting: 9, ready: 0, running: 0, memory: 0, released: 0, erred: 0 });
  });
});
