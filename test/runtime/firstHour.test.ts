// What a new user hits in the first hour, each case as they met it: a failing task under
// threads (also on a busy machine), a script with top-level await, a sync run that must stop,
// a process that ends with a run pending.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkeinError, TaskError, compute, delayed, get } from 'skein';
import { hang, inc, spin } from '../data/ops.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/skein.js', import.meta.url));

function node(args: string[]): { code: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
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
      assert.equal(r.code, 1, `exit code ${r.code} (signal ${r.signal}): ${r.stderr}`);
      assert.match(r.stderr, /^error: Task "parse-b" failed: cannot parse b:1,2,3\n {2}finished before the failure: /);
      assert.doesNotMatch(r.stderr, /Unexpected message/);
    }
  });
});

describe('a script with top-level await', () => {
  for (const scheduler of ['threads', 'processes']) {
    it(`runs under ${scheduler}: its task function closes over nothing, so it goes to the workers by its source`, () => {
      const r = node(['test/data/scripts/topLevelAwait.mjs', scheduler]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '[ 42 ]\n');
    });

    it(`is refused under ${scheduler} before any task starts when its task function uses a variable of the script, naming the function, the file and the fix`, () => {
      const r = node(['test/data/scripts/topLevelAwaitCapture.mjs', scheduler]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        new RegExp(
          `SkeinError: Task "double-[0-9a-f]+" uses double, defined in test/data/scripts/topLevelAwaitCapture\\.mjs, a module that is still running its top-level code \\(a top-level await there is waiting for this compute\\), so ${scheduler} workers cannot import it\\. Move the task functions into a module of their own and import them from there \\(export const double = … in tasks\\.mjs\\), or compute with \\{scheduler: 'sync'\\}\\.`,
        ),
      );
    });
  }

  it('runs under sync', () => {
    const r = node(['test/data/scripts/topLevelAwait.mjs', 'sync']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[ 42 ]\n');
  });

  for (const scheduler of ['sync', 'threads', 'processes', 'distributed']) {
    it(`runs under ${scheduler} with its tasks imported from a module, found without V8's inspector`, () => {
      // the script makes the inspector throw: its tasks must be found from its own imports
      const r = node(['test/data/scripts/importsTasks.mjs', scheduler]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '[ 5 ]\n');
      assert.equal(r.stderr, '');
    });
  }

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

describe('messages that say what to do', () => {
  it('shows a syntax error in a graph file as file:line:column, the message, the line and a caret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-syntax-'));
    try {
      const bad = 'export default {\n  a: [Math.max, 1, 2,\n  b: 3,\n};\n';
      for (const name of ['bad.graph.ts', 'bad.graph.mjs']) {
        writeFileSync(join(dir, name), bad);
        const r = node([bin, 'run', join(dir, name)]);
        assert.equal(r.code, 2);
        assert.equal(r.stderr, `error: ${join(dir, name)}:3:4: Expected "]" but found ":"\n    b: 3,\n     ^\n`);
      }
      writeFileSync(join(dir, 'helper.mjs'), 'export const x = (1;\n');
      writeFileSync(join(dir, 'uses.graph.mjs'), "import { x } from './helper.mjs';\nexport default { a: [Math.max, x, 1] };\n");
      const r = node([bin, 'run', join(dir, 'uses.graph.mjs')]);
      assert.equal(r.stderr, `error: ${join(dir, 'helper.mjs')}:1:20: Expected ")" but found ";"\n  export const x = (1;\n                     ^\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leads the report of a failed run with the failure and the failing key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-report-'));
    try {
      const record = join(dir, 'run.skein.json');
      assert.equal(node([bin, 'run', 'test/data/failing.graph.ts', '--scheduler', 'sync', '--record', record]).code, 1);
      const r = node([bin, 'report', record]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[1], 'FAILED at task "parse-b": Task "parse-b" failed: cannot parse b:1,2,3');
      assert.equal(lines[2], '2 of 5 tasks did not finish; the figures below cover the tasks that ran.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses misspelled compute options and get() keys that are not keys', async () => {
    const a = delayed(inc)(1);
    await assert.rejects(compute(a, { schedular: 'sync' }), {
      name: 'TypeError',
      message: /^compute\(\): the last argument looks like options with "schedular" \(did you mean "scheduler"\?\)\. Options are signal, batching, traverse, scheduler, numWorkers, /,
    });
    assert.deepEqual(await compute(a, { total: 3 }, { scheduler: 'sync' }), [2, { total: 3 }], 'an object that is not like options is a value');
    await assert.rejects(get({ x: 1 }, { x: 1 } as never), {
      name: 'TypeError',
      message: "get(graph, keys): keys must be a key (a string) or an array of keys (arrays may nest), got an object (Object). Options come third: get(graph, 'total', {scheduler: 'sync'}).",
    });
  });
});

describe('TypeScript graph files', () => {
  it('are transpiled once for the CLI and its workers, through a cache keyed by path and content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-ts-cache-'));
    try {
      const graph = join(dir, 'cached.graph.ts');
      const source = 'export const pick = (a: number, b: number): number => Math.max(a, b);\nexport default { x: [pick, 1, 2] };\n';
      writeFileSync(graph, source);
      const env = { ...process.env, TMPDIR: dir };
      const run = (): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [bin, 'run', graph, '--scheduler', 'threads'], { cwd: root, encoding: 'utf8', env });
      const first = run();
      assert.equal(first.stdout, 'x: 2\n', String(first.stderr));
      // the transpiled file is where the key says; planting another program there shows it is read
      const { cacheFile } = await import('../../runtime/loader/hooks.js');
      const withTmp = process.env.TMPDIR;
      process.env.TMPDIR = dir; // the cache's folder is in the temp folder of the environment
      try {
        const file = cacheFile(graph, source);
        assert.match(readFileSync(file, 'utf8'), /Math\.max\(a, b\)/);
        writeFileSync(file, 'export const pick = (a, b) => 40 + Math.max(a, b);\nexport default { x: [pick, 1, 2] };\n');
      } finally {
        if (withTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = withTmp;
      }
      assert.equal(run().stdout, 'x: 42\n', 'the CLI and its workers read the cache');
      writeFileSync(graph, source.replace('1, 2', '3, 4'));
      assert.equal(run().stdout, 'x: 4\n', 'an edited file is transpiled again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
