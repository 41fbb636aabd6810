// The distributed scheduler from the command line: `skein run --scheduler distributed`, and a
// cluster started by hand with `skein scheduler` and `skein worker`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from 'skein/distributed';
import { inc } from '../data/ops.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'skein.js');

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('SKEIN_')) delete env[name];
  return env;
}

/** Resolves with the first match of `pattern` in what `child` writes to stderr. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in: ${text}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('distributed from the command line', () => {
  it('skein run --scheduler distributed starts a local cluster for the run and stops it after', () => {
    const r = spawnSync(process.execPath, [bin, 'run', 'examples/etl.graph.ts', '--scheduler', 'distributed', '--num-workers', '2', '--json'], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: { report: { total: number; best: string } }; scheduler: string; tasks: number };
    assert.equal(out.scheduler, 'distributed');
    assert.equal(out.tasks, 22);
    assert.deepEqual([out.results.report.total, out.results.report.best], [947561.24, 'south']);
  });

  it('skein scheduler and skein worker make a cluster a client joins by address; Ctrl-C stops both and removes the secret', async () => {
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--port', '0'], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const worker: { child?: ChildProcess } = {};
    let secretFile: string | undefined;
    let workerPid = 0;
    try {
      const [, address, file] = await waitForLine(scheduler, /skein scheduler at (tcp:\/\/127\.0\.0\.1:\d+)\n {2}secret in (\S+) /);
      secretFile = file!;
      assert.ok(existsSync(secretFile));
      worker.child = spawn(process.execPath, [bin, 'worker', address!, '--nthreads', '2', '--name', 'by-hand'], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      const [, pid] = await waitForLine(worker.child, /skein worker by-hand \(pid (\d+)\) joined tcp:/);
      workerPid = Number(pid);
      const client = new Client({ address: address!, setAsDefault: false });
      try {
        assert.equal(await client.submit(inc, 41), 42);
        const workers = Object.values((await client.schedulerInfo()).workers);
        assert.deepEqual(workers.map((w) => [w.name, w.nthreads]), [['by-hand', 2]]);
      } finally {
        await client.close();
      }
      // a client without the secret is refused
      const stranger = new Client({ address: address!, secret: 'wrong', setAsDefault: false });
      await assert.rejects(stranger.submit(inc, 1).result(), { code: 'CLIENT_CLOSED' });
      await stranger.close();
    } finally {
      worker.child?.kill('SIGINT');
      scheduler.kill('SIGINT');
    }
    assert.equal(await exited(worker.child!), 0);
    assert.equal(await exited(scheduler), 0);
    assert.equal(existsSync(secretFile!), false, 'the secret file is removed');
    // this cluster's worker process, and any started again in its place (children of the worker
    // command, which has exited): not other tests' workers, which may be running meanwhile
    const alive = (p: number): boolean => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(workerPid > 0 && !alive(workerPid), 'the worker process is gone');
    const orphans = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((row) => row.includes('distributedWorker') && row.includes('by-hand'));
    assert.deepEqual(orphans, [], 'no worker process is left');
  });
});
