// The default path: `get` with default options on a warm default pool, as Dask keeps its
// default thread pool. Reuse across computes, sharing between concurrent computes, rebuilding on
// a new worker count, letting workers go when idle, a process that ends by itself; and the
// schedule the batch executor makes (results streamed, no worker idle while another holds work).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Recorder, closeDefaultPools, get, type RunRecord } from 'skein';
import { inc, sleep, sleepAfter, spin, whereAmI } from '../data/ops.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Worker processes that are children of this test process. */
function workerProcesses(): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('processWorker'))
      .map((l) => Number(l.trim().split(' ')[0]));
  } catch {
    return []; // ps exits 1 when there is no child
  }
}

/** True while `pid` runs (a killed worker whose parent is gone may linger as a zombie: that is not running). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Runs `graph` with a recorder; the record of the run. */
async function recorded(graph: Record<string, unknown>, keys: string[], options: Record<string, unknown>): Promise<RunRecord> {
  const recorder = new Recorder();
  const values = (await get(graph, keys, { ...options, callbacks: [recorder] })) as unknown[];
  return recorder.toRecord({ scheduler: String(options.scheduler), numWorkers: 2, keys }, values);
}

/**
 * The ideal makespan of a recorded run on `workers` workers, from the measured run time of every
 * task: the longer of (all work spread evenly) and (the longest chain of dependent tasks).
 */
function idealMs(record: RunRecord, workers: number): number {
  const { started, finished } = record.tasks;
  const deps = record.graph.dependencies;
  const run = started.map((s, t) => (finished[t] as number) - (s as number));
  const total = run.reduce((a, b) => a + b, 0);
  const path = new Array<number>(run.length).fill(-1);
  const longest = (t: number): number => {
    if (path[t]! >= 0) return path[t]!;
    path[t] = run[t]! + Math.max(0, ...deps[t]!.map(longest));
    return path[t]!;
  };
  return Math.max(total / workers, ...run.map((_, t) => longest(t)));
}

/** Has both workers of the pool load the task module (a worker's first import of it takes a while). */
async function warmBoth(opts: Record<string, unknown>): Promise<void> {
  const where = (await get({ a: [sleep, 30], b: [sleep, 30], wa: [whereAmI, 'a'], wb: [whereAmI, 'b'] }, ['wa', 'wb'], opts)) as string[];
  assert.notEqual(where[0], where[1], 'the two tasks ran on the two workers');
}

/** From the first task ready to the last result back in the core. */
function makespanMs(record: RunRecord): number {
  return Math.max(...(record.tasks.received as number[])) - Math.min(...(record.tasks.ready as number[]));
}

for (const scheduler of ['threads', 'processes'] as const) {
  const opts = { scheduler, numWorkers: 2 };

  describe(`default pool: ${scheduler}`, () => {
    it('reuses one warm pool across computes, and concurrent computes share it', async () => {
      await closeDefaultPools();
      const first = (await get({ w: [whereAmI] }, 'w', opts)) as string;
      const seen = new Set<string>([first]);
      for (let i = 0; i < 10; i++) seen.add((await get({ w: [whereAmI] }, 'w', opts)) as string);
      const together = await Promise.all(
        [0, 1, 2, 3].map(async (c) => {
          const graph: Record<string, unknown> = {};
          for (let i = 0; i < 6; i++) graph[`s-${i}`] = [sleep, 5];
          for (let i = 0; i < 6; i++) graph[`w-${i}`] = [whereAmI, `s-${i}`];
          return { c, where: (await get(graph, Object.keys(graph).filter((k) => k.startsWith('w-')), opts)) as string[] };
        }),
      );
      for (const { where } of together) for (const w of where) seen.add(w);
      assert.equal(seen.size, 2, `every compute ran on the same two workers: ${[...seen].join(', ')}`);
      if (scheduler === 'processes') assert.equal(workerProcesses().length, 2);
    });

    it('rebuilds the pool when numWorkers changes, and closes the old one', async () => {
      await get({ x: [inc, 1] }, 'x', opts);
      const before = scheduler === 'processes' ? workerProcesses() : [];
      const one = new Set<string>();
      for (let i = 0; i < 4; i++) one.add((await get({ w: [whereAmI] }, 'w', { ...opts, numWorkers: 1 })) as string);
      assert.equal(one.size, 1);
      if (scheduler === 'processes') {
        assert.ok(await eventually(() => before.every((pid) => !alive(pid))), 'the two old worker processes are gone');
        assert.equal(workerProcesses().length, 1);
      }
      await closeDefaultPools();
    });

    it('lets its workers go after poolIdleTimeoutMs, and starts again on the next compute', async () => {
      assert.equal(await get({ x: [inc, 1] }, 'x', { ...opts, poolIdleTimeoutMs: 100 }), 2);
      if (scheduler === 'processes') {
        assert.equal(workerProcesses().length, 2);
        assert.ok(await eventually(() => workerProcesses().length === 0), 'idle workers let go');
      } else {
        await new Promise((r) => setTimeout(r, 300));
      }
      const w1 = (await get({ w: [whereAmI] }, 'w', opts)) as string;
      assert.match(w1, scheduler === 'threads' ? /^thread-\d+$/ : /^process-\d+$/);
      await closeDefaultPools();
      assert.deepEqual(workerProcesses(), []);
    });

    it('a script of 50 computes ends by itself within 200 ms of the last, leaving no worker', async () => {
      const child = spawn(process.execPath, ['test/data/fiftyComputes.mjs', scheduler], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exitedAt = await new Promise<number>((resolve) => child.on('exit', () => resolve(performance.timeOrigin + performance.now())));
      const report = JSON.parse(out) as { total: number; lastComputeAt: number; workers: number[] };
      assert.equal(report.total, 2600);
      assert.equal(child.exitCode, 0);
      const lag = exitedAt - report.lastComputeAt;
      assert.ok(lag < 200, `exited ${lag.toFixed(0)} ms after the last compute`);
      if (scheduler === 'processes') assert.equal(report.workers.length, 2);
      for (const pid of report.workers) assert.ok(await eventually(() => !alive(pid), 1000), `worker ${pid} is gone`);
    });

    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      it(`leaves no worker behind when the program dies of ${signal} mid-task`, async () => {
        const child = spawn(process.execPath, ['test/data/scripts/longTask.mjs', scheduler], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        assert.ok(await eventually(() => out.includes(']'), 10_000), 'the script started its workers');
        const workers = JSON.parse(out) as number[];
        if (scheduler === 'processes') assert.equal(workers.length, 2);
        await new Promise((r) => setTimeout(r, 300)); // both workers are inside a 20 s task now
        child.kill(signal);
        await new Promise((r) => child.on('exit', r));
        for (const pid of workers) assert.ok(await eventually(() => !alive(pid), 2000), `worker ${pid} is gone`);
      });
    }

    it('keeps both workers busy when a few slow tasks hide among many fast ones', async () => {
      // 4 tasks of 40 ms and 80 of 2 ms, one function: a batch of "fast" tasks may hold a slow one
      await warmBoth(opts); // the makespan is the schedule's, not start-up
      const graph: Record<string, unknown> = {};
      for (let i = 0; i < 84; i++) graph[`t-${i}`] = [sleep, i % 21 === 0 ? 40 : 2];
      const record = await recorded(graph, Object.keys(graph), opts);
      const ideal = idealMs(record, 2);
      const makespan = makespanMs(record);
      assert.ok(makespan <= ideal * 1.15, `makespan ${makespan.toFixed(1)} ms, ideal ${ideal.toFixed(1)} ms`);
    });

    it('streams the results of slow tasks, so later stages start early', async () => {
      //  load-i (30 ms) ─▶ parse-i (30 ms) ─▶ report      with 40 small tasks (3 ms) beside
      // (timer waits, one at a time per worker: as in the test above)
      await warmBoth(opts);
      const graph: Record<string, unknown> = {};
      for (let i = 0; i < 4; i++) {
        graph[`load-${i}`] = [sleepAfter, 30];
        graph[`parse-${i}`] = [sleepAfter, 30, `load-${i}`];
      }
      for (let j = 0; j < 40; j++) graph[`small-${j}`] = [sleepAfter, 3];
      graph.report = [sleepAfter, 1, ...Object.keys(graph)];
      const record = await recorded(graph, ['report'], { ...opts, asyncTasksPerWorker: 1 });
      // streamed: each load's result reached the scheduler as it finished, not with the rest of its
      // batch (a worker's batch of small tasks runs for tens of ms after it); the makespan, which a
      // busy machine stretches, is the bench's to judge
      const at = (key: string): number => record.graph.keys.indexOf(key);
      for (let i = 0; i < 4; i++) {
        const t = at(`load-${i}`);
        const late = (record.tasks.received[t] as number) - (record.tasks.finished[t] as number);
        assert.ok(late < 25, `load-${i}'s result reached the scheduler ${late.toFixed(1)} ms after it finished`);
      }
    });

    it('overlaps tasks that wait on promises: 8 waits of 100 ms on 2 workers take one wait, not four', async () => {
      await warmBoth(opts);
      const graph: Record<string, unknown> = {};
      for (let i = 0; i < 8; i++) graph[`io-${i}`] = [sleep, 100];
      await get(graph, Object.keys(graph), opts); // measured: the executor learns they only wait
      const record = await recorded(graph, Object.keys(graph), opts);
      const makespan = makespanMs(record);
      assert.ok(makespan < 200, `8 waits of 100 ms took ${makespan.toFixed(0)} ms`);
      const limited = await recorded(graph, Object.keys(graph), { ...opts, asyncTasksPerWorker: 2 });
      const slower = makespanMs(limited);
      assert.ok(slower >= 200, `with asyncTasksPerWorker: 2, at most 4 wait at once: ${slower.toFixed(0)} ms`);
    });

    it('reports a task of a millisecond or more when it finishes, not when its batch ends', async () => {
      await warmBoth(opts);
      // batches of ~50 ms: 2 ms tasks go 25 to a batch, and each must still come back on its own
      // (one worker computing: the other core is the scheduler's)
      const one = { ...opts, numWorkers: 1 };
      const graph: Record<string, unknown> = {};
      for (let i = 0; i < 100; i++) graph[`t-${i}`] = [spin, 2];
      await get(graph, Object.keys(graph), one); // measured: the executor knows they take ~2 ms
      const record = await recorded(graph, Object.keys(graph), { ...one, 'batching.targetMs': 50 });
      const { started, finished, received } = record.tasks;
      const sameBatch = started.filter((s) => (s as number) > (received[0] as number)).length;
      assert.ok(sameBatch > 0, 'tasks started after the first result came back');
      for (let t = 0; t < record.graph.keys.length; t++) {
        const lag = (received[t] as number) - (finished[t] as number);
        assert.ok(lag < 20, `${record.graph.keys[t]} came back ${lag.toFixed(1)} ms after it finished`);
      }
    });
  });
}
