// The extension's parts that need no editor: trust policy, manifest, command lines, stack
// frames, and a real runner process driven through RunnerClient.
import assert from 'node:assert/strict';
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RunnerClient } from '../../extension/runnerClient.js';
import { recordedFailure } from '../../extension/recordedFailure.js';
import { UNTRUSTED_MESSAGE, refuseUntrusted } from '../../extension/trust.js';
import { copySkeinPackage, hasSkeinPackage, isMissingSkein } from '../../extension/workspacePackage.js';
import type { FromRunner } from '../../runtime/runner/protocol.js';
import { stateOfCode } from '../../runtime/core/taskStates.js';
import { stackFrames } from '../../runtime/runner/main.js';
import { formatDuration } from '../../runtime/diagnostics/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  capabilities: { untrustedWorkspaces: { supported: string; description: string } };
  contributes: { commands: Array<{ command: string; title: string; category: string; enablement?: string }>; configuration: { properties: Record<string, { markdownDescription?: string }> } };
  engines: { vscode: string };
};

describe('workspace trust', () => {
  it('refuses runs in restricted mode with the reason, and allows them when trusted', () => {
    assert.equal(refuseUntrusted(true), undefined);
    assert.equal(refuseUntrusted(false), UNTRUSTED_MESSAGE);
    assert.equal(UNTRUSTED_MESSAGE, 'Skein runs the code of your graph files, so running and debugging are disabled in Restricted Mode. Trust this workspace to enable them.');
  });

  it('declares limited support for untrusted workspaces and disables every run command there', () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    const runs = manifest.contributes.commands.filter((c) => c.command.startsWith('skein.run') || c.command === 'skein.rerun');
    assert.deepEqual(runs.map((c) => c.command).sort(), ['skein.rerun', 'skein.runDistributed', 'skein.runProcesses', 'skein.runSync', 'skein.runThreads']);
    for (const c of runs) assert.equal(c.enablement, 'isWorkspaceTrusted', c.command);
  });
});

describe('restricted mode and menus', () => {
  const menus = (manifest as unknown as { contributes: { menus: Record<string, Array<{ command: string; when?: string }>>; viewsWelcome: Array<{ contents: string; when?: string }> } }).contributes;

  it("puts Run with Threads and Debug Task in the editor's context menu on graph files, trusted", () => {
    const context = menus.menus['editor/context']!;
    for (const command of ['skein.runThreads', 'skein.debugTask']) {
      const entry = context.find((e) => e.command === command);
      assert.ok(entry, command);
      assert.match(entry.when!, /^isWorkspaceTrusted && \(resourceFilename =~ /);
    }
  });

  it('offers an explanation where the run entries are, and says why in the runs view, in restricted mode', () => {
    for (const menu of ['editor/title/run', 'explorer/context', 'editor/context']) {
      const entry = menus.menus[menu]!.find((e) => e.command === 'skein.explainRestricted');
      assert.ok(entry, menu);
      assert.match(entry.when!, /^!isWorkspaceTrusted && /);
    }
    const untrusted = menus.viewsWelcome.find((w) => w.when === '!isWorkspaceTrusted');
    assert.ok(untrusted);
    assert.match(untrusted.contents, /off in Restricted Mode[^]*\[Manage Workspace Trust\]\(command:workbench\.trust\.manage\)/);
    assert.equal(menus.viewsWelcome.find((w) => w.when === 'isWorkspaceTrusted')?.contents.startsWith('No runs yet.'), true);
  });
});

describe('the skein package added to a workspace', () => {
  it('copies runtime, types and CLI into node_modules/skein, where import, types and npx skein work', () => {
    const folder = mkdtempSync(join(tmpdir(), 'skein-ws-'));
    try {
      assert.equal(hasSkeinPackage(folder), false);
      const target = copySkeinPackage(root, folder);
      assert.equal(target, join(folder, 'node_modules', 'skein'));
      assert.equal(hasSkeinPackage(folder), true);
      for (const file of ['dist/types/runtime/index.d.ts', 'dist/runtime/index.js', 'bin/skein.js', 'node_modules/esbuild/package.json']) assert.ok(existsSync(join(target, file)), file);
      writeFileSync(join(folder, 'package.json'), '{"type":"module"}\n');
      writeFileSync(join(folder, 'main.mjs'), "import { get } from 'skein';\nconsole.log(await get({ x: 1, y: [Math.max, 'x', 4] }, 'y', { scheduler: 'sync' }));\n");
      assert.equal(execFileSync(process.execPath, ['main.mjs'], { cwd: folder, encoding: 'utf8' }), '4\n');
      writeFileSync(join(folder, 'p.graph.ts'), "export const two = (): number => 2;\nexport default { t: [two] };\n");
      assert.equal(execFileSync(process.execPath, [join(target, 'bin', 'skein.js'), 'run', 'p.graph.ts', '--scheduler', 'sync'], { cwd: folder, encoding: 'utf8' }), 't: 2\n');
      assert.equal(isMissingSkein("Cannot find module 'skein' or its corresponding type declarations."), true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('manifest', () => {
  it('targets VS Code 1.96, loads the bundle, and describes every setting', () => {
    assert.equal(manifest.engines.vscode, '^1.96.0');
    assert.equal(manifest.main, './dist/extension.cjs');
    assert.deepEqual(Object.keys(manifest.contributes.configuration.properties), ['skein.scheduler', 'skein.numWorkers', 'skein.graphFiles', 'skein.nodePath', 'skein.openPanelOnRun', 'skein.debug.stepBackMemory']);
    for (const [key, p] of Object.entries(manifest.contributes.configuration.properties)) assert.ok((p.markdownDescription ?? '').length > 20, key);
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Skein');
  });
});

describe('stack frames', () => {
  it('finds file:line:column in both frame shapes, innermost first', () => {
    const stack = 'Error: x\n    at parse (/w/a.graph.ts:8:11)\n    at /w/b.ts:3:1\n    at file:///w/c.mjs:2:5\n    at node:internal/x:1:1';
    assert.deepEqual(stackFrames(stack), [
      { file: '/w/a.graph.ts', line: 8, column: 11 },
      { file: '/w/b.ts', line: 3, column: 1 },
      { file: '/w/c.mjs', line: 2, column: 5 },
    ]);
  });
});

describe('recorded runs', () => {
  it('names the graph file and the failed task of a recorded run a task failed, and nothing for a run that succeeded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-record-'));
    try {
      const failed = join(dir, 'failed.skein.json');
      const ok = join(dir, 'ok.skein.json');
      const skein = (args: string[]): void => {
        try {
          execFileSync(process.execPath, [join(root, 'bin/skein.js'), 'run', ...args], { cwd: root, stdio: 'ignore' });
        } catch {
          // the failing run exits 1: its record is what this test reads
        }
      };
      skein(['test/data/failing.graph.ts', '-s', 'threads', '--record', failed]);
      skein(['examples/etl.graph.ts', '-s', 'sync', '--record', ok]);
      assert.deepEqual(recordedFailure(failed), { file: join(root, 'test/data/failing.graph.ts'), failedKey: 'parse-b', message: 'Task "parse-b" failed: cannot parse b:1,2,3' });
      assert.equal(recordedFailure(ok), undefined);
      assert.equal(recordedFailure(join(dir, 'missing.json')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runner process', () => {
  it('streams started, progress, results and finished for a graph file, then exits 0', async () => {
    const messages: FromRunner[] = [];
    const client = RunnerClient.start({
      node: process.execPath,
      runnerFile: join(root, 'dist/runtime/runner.js'),
      cwd: root,
      request: { kind: 'run', file: join(root, 'examples/etl.graph.ts'), scheduler: 'sync', keys: ['total'] },
      onMessage: (m) => messages.push(m),
    });
    const exit = await client.exited;
    assert.equal(exit.code, 0, exit.stderr);
    // progress at most every 100 ms, and always once at the end
    const kinds = messages.map((m) => m.kind).filter((k, i, all) => k !== 'progress' || all[i + 1] !== 'progress');
    assert.deepEqual(kinds, ['started', 'progress', 'result', 'finished']);
    assert.deepEqual(messages.filter((m) => m.kind === 'progress').at(-1), { kind: 'progress', done: 13, total: 13 });
    assert.deepEqual(messages.at(-2), { kind: 'result', key: 'total', text: '947561.24', bytes: null });
    const started = messages[0] as Extract<FromRunner, { kind: 'started' }>;
    assert.equal(started.tasks, 13);
    assert.equal(started.pid, client.pid);
  });

  it('gives a run one duration: the output\'s and the panel\'s (the record\'s) are the same figure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-duration-'));
    try {
      const recordFile = join(dir, 'run.skein.json');
      const messages: FromRunner[] = [];
      const client = RunnerClient.start({
        node: process.execPath,
        runnerFile: join(root, 'dist/runtime/runner.js'),
        cwd: root,
        request: { kind: 'run', file: join(root, 'examples/etl.graph.ts'), scheduler: 'processes', numWorkers: 2, recordFile },
        onMessage: (m) => messages.push(m),
      });
      assert.equal((await client.exited).code, 0);
      const finished = messages.find((m) => m.kind === 'finished') as Extract<FromRunner, { kind: 'finished' }>;
      const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { run: { elapsedMs?: number; startedAt: number; finishedAt: number } };
      assert.equal(record.run.elapsedMs, finished.elapsedMs);
      assert.equal(formatDuration(record.run.elapsedMs), formatDuration(finished.elapsedMs));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams the transitions of a live run: applied in order, they give every task its final state', async () => {
    const messages: FromRunner[] = [];
    const client = RunnerClient.start({
      node: process.execPath,
      runnerFile: join(root, 'dist/runtime/runner.js'),
      cwd: root,
      request: { kind: 'run', file: join(root, 'examples/etl.graph.ts'), scheduler: 'sync', live: true },
      onMessage: (m) => messages.push(m),
    });
    assert.equal((await client.exited).code, 0);
    const graph = messages.find((m) => m.kind === 'graph') as Extract<FromRunner, { kind: 'graph' }>;
    const states: string[] = graph.record.tasks.status.map(() => 'waiting');
    const batches = messages.filter((m): m is Extract<FromRunner, { kind: 'transitions' }> => m.kind === 'transitions');
    assert.ok(batches.length >= 1);
    for (const b of batches) {
      assert.equal(b.tasks.length, b.states.length);
      b.tasks.forEach((t, i) => (states[t] = stateOfCode(b.states[i]!)));
    }
    const counts: Record<string, number> = {};
    for (const st of states) counts[st] = (counts[st] ?? 0) + 1;
    assert.deepEqual(counts, { memory: 1, released: 21 });
    assert.deepEqual(batches.at(-1)!.done, batches.at(-1)!.total);
  });

  it('a debug runner paused at a task exits when its parent goes (its channel closes), though its inspector listens', async () => {
    const child = fork(join(root, 'dist/runtime/runner.js'), [], { cwd: root, execArgv: ['--enable-source-maps', '--inspect=127.0.0.1:0'], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    try {
      const events: string[] = [];
      const paused = new Promise<void>((resolve) =>
        child.on('message', (m: FromRunner) => {
          if (m.kind !== 'debugEvent') return;
          events.push(m.event);
          if (m.event === 'ready') child.send({ kind: 'request', id: 1, command: 'configurationDone', args: {} });
          if (m.event === 'stopped') resolve();
        }),
      );
      child.send({ kind: 'debug', file: join(root, 'test/data/debug.graph.ts'), stopOnEntry: true, breakOnTaskError: true });
      await paused;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.disconnect();
      const code = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
      assert.equal(code, 0, `events: ${events.join(', ')}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('reports a task failure with the user frames, then exits 1', async () => {
    const messages: FromRunner[] = [];
    const client = RunnerClient.start({
      node: process.execPath,
      runnerFile: join(root, 'dist/runtime/runner.js'),
      cwd: root,
      request: { kind: 'run', file: join(root, 'test/data/failing.graph.ts'), scheduler: 'threads', numWorkers: 2 },
      onMessage: (m) => messages.push(m),
    });
    assert.equal((await client.exited).code, 1);
    const failed = messages.at(-1) as Extract<FromRunner, { kind: 'failed' }>;
    assert.equal(failed.kind, 'failed');
    assert.equal(failed.key, 'parse-b');
    assert.equal(failed.code, 'TASK_FAILED');
    assert.deepEqual(failed.frames[0], { file: join(root, 'test/data/failing.graph.ts'), line: 8, column: 11 });
  });
});
