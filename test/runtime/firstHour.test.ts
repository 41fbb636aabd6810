// What a new user hits in the first hour, each case as they met it: a failing task under
// threads (also on a busy machine), a script with top-level await, a sync run that must stop,
// a process that ends with a run pending.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SkeinError, TaskError, get } from 'skein';
import { hang, inc, spin } from '../data/ops.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/skein.js', import.meta.url));

function node(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a failing task under threads', () => {
  let hog: ChildProcess | undefined;
  before(() => {
    // a busy machine: one core taken by another process for the length of these tests (at most 60 s)
    hog = spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' });
  });
  after(() => {
    hog?.kill('SIGKILL');
  });

  it('fails with the task\'s own error every time, in the API, also while the machine is busy', async () => {
    const { default: graph } = (await import(new URL('../data/parseFails.graph.mjs', import.meta.url).href)) as { default: Record<string, unknown> };
    for (let i = 0; i < 40; i++) {
      const error = await get(graph, ['parse-a', 'parse-b', 'parse-c'], { scheduler: 'threads', numWorkers: 2 }).then(
        () => assert.fail('the run succeeded'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TaskError, `run ${i}: ${String(error)}`);
      assert.equal(error.key, 'parse-b');
      assert.equal((error.cause as Error).message, 'cannot parse b:1,2,3');
    }
  });

  it('fails with the task\'s own error every time from the CLI, exit code 1', () => {
    for (let i = 0; i < 8; i++) {
      const r = node([bin, 'run', 'test/data/parseFails.graph.mjs', '--scheduler', 'threads']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error: Task "parse-b" failed: cannot parse b:1,2,3\n {2}finished before the failure: /);
      assert.doesNotMatch(r.stderr, /Unexpected message/);
    }
  });
});

describe('a script with top-level await', () => {
  for (const scheduler of ['threads', 'processes']) {
    it(`is refused under ${scheduler} before any task starts, naming the function, the file and the fix`, () => {
      const r = node(['test/data/scripts/topLevelAwait.mjs', scheduler]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        new RegExp(
          `SkeinError: Task "double-[0-9a-f]+" uses double, defined in test/data/scripts/topLevelAwait\\.mjs, a module that is still running its top-level code \\(a top-level await there is waiting for this compute\\), so ${scheduler} workers cannot import it\\. Move the task functions into a module of their own and import them from there \\(export const double = … in tasks\\.mjs\\), or compute with \\{scheduler: 'sync'\\}\\.`,
        ),
      );
    });
  }

  it('runs under sync', () => {
    const r = node(['test/data/scripts/topLevelAwait.mjs', 'sync']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[ 42 ]\n');
  });

  it('that ends with a run pending says which run and what it waited for', () => {
    const r = node(['test/data/scripts/hangs.mjs']);
    assert.equal(r.code, 13);
    assert.match(
      r.stderr,
      /^skein: the process is ending while a sync run of 2 tasks still waits \(1 finished\): tasks "h" never finished \(a promise that never settles\?\)\. Set taskTimeoutMs to fail tasks that hang\.\n/,
    );
  });
});

describe('the sync scheduler can be stopped', () => {
  it('fails an awaited task after taskTimeoutMs, naming it', async () => {
    const t0 = performance.now();
    const error = await get({ a: [inc, 1], h: [hang, 'a'] }, 'h', { scheduler: 'sync', taskTimeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(error instanceof TaskError);
    assert.equal(error.key, 'h');
    assert.equal(
      (error.cause as Error).message,
      'Task "h" ran longer than taskTimeoutMs (300 ms); the sync scheduler stopped waiting for its promise (work it started may still go on: one thread cannot stop it).',
    );
    assert.ok(performance.now() - t0 >= 290);
  });

  it('honours an abort between tasks that never await', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) graph[`spin-${i}`] = [spin, 100];
    const error = await get(graph, Object.keys(graph), { scheduler: 'sync', signal: AbortSignal.timeout(150) }).catch((e: unknown) => e);
    assert.ok(error instanceof SkeinError);
    assert.equal(error.code, 'CANCELLED');
    assert.match(error.message, /^Computation cancelled: The operation was aborted due to timeout; finished before cancelling: spin-\d(, spin-\d)*$/);
    const finished = error.message.split(': ').pop()!.split(', ');
    assert.ok(finished.length < 10, `stopped before the end: ${finished.length} finished`);
  });

  it('stops at Ctrl-C from the CLI, exit 130, listing what finished', async () => {
    const child = spawn(process.execPath, [bin, 'run', 'test/data/spin.graph.mjs', '--scheduler', 'sync'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((r) => setTimeout(r, 700));
    const sentAt = performance.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, stderr);
    assert.ok(performance.now() - sentAt < 1000, 'stopped within one task');
    assert.match(stderr, /^error: Computation cancelled: interrupted \(SIGINT\); finished before cancelling: (none|spin-\d(, spin-\d)*)\n$/);
  });
});
