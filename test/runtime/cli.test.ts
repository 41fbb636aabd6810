// The `skein` command end to end, as a user runs it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { debugCommand } from '../../runtime/cli/debugCommand.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'skein.js');

function skein(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env = { ...process.env, ...options.env };
  for (const name of Object.keys(env)) if (name.startsWith('SKEIN_') && !(options.env && name in options.env)) delete env[name];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('skein CLI', () => {
  it('runs the example and prints exactly one JSON object with --json', () => {
    const r = skein(['run', 'examples/etl.graph.ts', '--scheduler', 'sync', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trim().split('\n').length, 1);
    const out = JSON.parse(r.stdout) as { results: Record<string, { total: number; best: string; regions: unknown[] }>; scheduler: string; tasks: number; elapsedMs: number };
    assert.deepEqual(Object.keys(out), ['results', 'scheduler', 'tasks', 'elapsedMs']);
    assert.equal(out.scheduler, 'sync');
    assert.equal(out.tasks, 22);
    assert.equal(typeof out.elapsedMs, 'number');
    assert.equal(out.results.report!.total, 947561.24);
    assert.equal(out.results.report!.best, 'south');
    assert.equal(out.results.report!.regions.length, 4);
  });

  it('computes only the keys asked for, and prints them readably', () => {
    const r = skein(['run', 'examples/etl.graph.ts', '-s', 'sync', '--keys', 'total,units-east']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'total: 947561.24\nunits-east: 8512\n');
    assert.match(r.stderr, /^14 tasks in \d+\.\d ms, sync scheduler, 1 worker\n$/);
  });

  it('reports a failing task with its key, the finished keys and a stack at the user line', () => {
    const r = skein(['run', 'test/data/failing.graph.ts', '-s', 'sync']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n');
    assert.equal(lines[0], 'error: Task "parse-b" failed: cannot parse b:1,2,3');
    assert.equal(lines[1], '  finished before the failure: read-a, parse-a, read-b');
    assert.equal(lines[2], 'Error: cannot parse b:1,2,3');
    assert.equal(lines[3], `    at parse (${join(root, 'test/data/failing.graph.ts')}:8:11)`);
    // the last line is the command that stops a debugger at that task
    assert.equal(lines.at(-2), 'debug it: skein debug test/data/failing.graph.ts --key parse-b');
    assert.equal(lines.at(-1), '');
  });

  for (const scheduler of ['threads', 'processes', 'distributed']) {
    it(`ends a task failure under ${scheduler} with the command that debugs it`, () => {
      const r = skein(['run', 'test/data/parseFails.graph.mjs', '-s', scheduler]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error: Task "parse-b" failed: cannot parse b:1,2,3\n[^]*\ndebug it: skein debug test\/data\/parseFails\.graph\.mjs --key parse-b\n$/);
    });
  }

  it('quotes a key or a file the shell would split, in the command that debugs a failure', () => {
    assert.equal(debugCommand('my graphs/etl.graph.ts', "it's a key"), `skein debug 'my graphs/etl.graph.ts' --key 'it'\\''s a key'`);
    assert.equal(debugCommand('a.graph.ts', 'clean-north'), 'skein debug a.graph.ts --key clean-north');
  });

  it('skein debug runs what a task needs, stops a debugger just before it, and Step Into reaches its function', async () => {
    const child = spawn(process.execPath, [bin, 'debug', 'test/data/parseFails.graph.mjs', '--key', 'parse-b', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const m = /Listening on (ws:\/\/\S+);/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`skein debug exited: ${stderr}`)));
    });
    assert.match(stderr, /skein debug: 2 tasks \(what "parse-b" needs\) will run in this process, then stop before "parse-b"\.\n/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const attached = spawnSync(process.execPath, ['--no-warnings', '--experimental-websocket', 'test/data/scripts/attachDebugger.mjs', url], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    assert.equal(attached.status, 0, attached.stderr);
    const pauses = JSON.parse(attached.stdout) as Array<{ function: string; url: string; line: number; task?: unknown }>;
    assert.equal(pauses[0]!.function, 'skeinDebugTask');
    assert.deepEqual(pauses[0]!.task, { key: 'parse-b', fn: 'parse', inputs: ['b:1,2,3'] });
    const last = pauses.at(-1)!;
    assert.deepEqual(last, { function: 'parse', url: pathToFileURL(join(root, 'test/data/parseFails.graph.mjs')).href, line: 4 });
    assert.ok(pauses.length <= 3, `Step Into reaches the task in at most two steps: ${JSON.stringify(pauses)}`);
    assert.equal(await exited, 1);
    assert.match(stderr, /\nerror: Task "parse-b" failed: cannot parse b:1,2,3\n {2}finished before the failure: load-b\n/);
  });

  it('stops quietly when what reads its output stops early (| head)', () => {
    // 5,000 keys print more than a pipe holds, and the reader closes it after a line: before the fix, an EPIPE error and its stack
    const dir = mkdtempSync(join(tmpdir(), 'skein-cli-pipe-'));
    try {
      writeFileSync(join(dir, 'many.graph.mjs'), 'const g = {};\nfor (let i = 0; i < 5000; i++) g[`key-${i}`] = i;\nexport default g;\n');
      const r = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" keys many.graph.mjs | head -n 1`], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.stdout, 'key-0  (key, 0 dependencies)\n');
      assert.equal(r.stderr, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing key and a cycle with exit code 2', () => {
    const missing = skein(['run', 'examples/etl.graph.ts', '-s', 'sync', '--keys', 'totl']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: Key "totl" is not in the graph. Closest keys: total. Request one of the graph\'s keys.\n');
    const cycle = skein(['run', 'test/data/cycle.graph.mjs', '-s', 'sync']);
    assert.equal(cycle.code, 2);
    assert.match(cycle.stderr, /^error: Cycle detected in the graph: a -> c -> b -> a\./);
  });

  it('resolves `skein` for a graph file outside any project and finds .ts files by .js specifiers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-outside-'));
    try {
      cpSync(join(root, 'test/data/delayed.graph.ts'), join(dir, 'delayed.graph.ts'));
      cpSync(join(root, 'test/data/helpers'), join(dir, 'helpers'), { recursive: true });
      const r = skein(['run', join(dir, 'delayed.graph.ts'), '-s', 'sync', '--json'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).results, { doubled: 28, total: 14 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds an extensionless import with a dot in its name (./math.service)', () => {
    const r = skein(['run', 'test/data/dotted.graph.ts', '-s', 'threads', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).results, { y: 6 });
  });

  it('prints the merged configuration with the source of each value', () => {
    const r = skein(['config'], { env: { SKEIN_NUM_WORKERS: '3' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^scheduler +"threads" +\(default\)$/m);
    assert.match(r.stdout, /^numWorkers +3 +\(environment\)$/m);
    const bad = skein(['config'], { env: { SKEIN_SCHEDULER: 'gpu' } });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: Unknown scheduler "gpu"; valid schedulers: sync, threads, processes, distributed.\n');
  });

  it('on Ctrl-C stops the run, exits 130 and leaves no worker process', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'run', 'test/data/slow.graph.ts', '--scheduler', 'processes', '--num-workers', '2'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const workers = (): string[] => {
      const r = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' });
      return r.stdout.split('\n').filter((l) => l.includes('processWorker')).map((l) => l.trim().split(' ')[0]!);
    };
    let seen: string[] = [];
    for (let i = 0; i < 100 && seen.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = workers();
    }
    assert.equal(seen.length, 2, 'two worker processes started');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130);
    assert.match(stderr, /^error: Computation cancelled: interrupted \(SIGINT\); finished before cancelling: none\n$/);
    for (const pid of seen) assert.throws(() => process.kill(Number(pid), 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
  });

  it('has conventional help with examples, and rejects unknown scheduler names', () => {
    const help = skein(['run', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: skein run \[options\] <graph-file>/);
    assert.match(help.stdout, /Examples:\n {2}skein run examples\/etl\.graph\.ts --scheduler sync/);
    const bad = skein(['run', 'examples/etl.graph.ts', '--scheduler', 'gpu']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /error: option '-s, --scheduler <name>' argument 'gpu' is invalid\. Allowed choices are sync, threads, processes, distributed\./);
  });
});
