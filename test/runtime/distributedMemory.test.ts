// A distributed worker's memory limit with real allocations: results beyond it spilled to disk
// and read back, a worker over the pause threshold starting nothing until it is under again, a
// task that alone needs more than a worker has failing with how much memory it reached.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withConfig } from 'skein';
import { Client, wait } from 'skein/distributed';
import { block, blockSum, hog, inc } from '../data/ops.js';
import { until } from '../until.js';

type Info = { workers: Record<string, { name: string; pid: number; memory: number; managed: number; unmanaged: number; spilled: number; paused: boolean; memoryLimit: number | null }> };

describe('distributed worker memory', () => {
  it('completes a graph of three times the cluster\'s memory limit by spilling the oldest results to disk, and reads them back', { timeout: 90_000 }, async () => {
    // a worker of 400 MB (two threads); 120 results of 10 MB held by the client's futures: 1.2 GB
    const client = new Client({ nWorkers: 1, threadsPerWorker: 2, memoryLimit: '400MB', dashboardAddress: null, setAsDefault: false });
    try {
      await client.ready;
      const pid = Object.values(((await client.schedulerInfo()) as Info).workers)[0]!.pid;
      const n = 120;
      const made = Array.from({ length: n }, (_, i) => client.options({ key: `block-${i}` }).submit(block, i, 10));
      await client.gather(made.map((f) => client.options({ key: `seen-${f.key}` }).submit(blockSum, f)));
      // everything is still held: what is not in memory is on disk (a heartbeat a second says so)
      let last: Info['workers'][string][] = [];
      const info = await until(`a heartbeat counting every block: ${JSON.stringify(last)}`, async () => {
        last = Object.values(((await client.schedulerInfo()) as Info).workers);
        const held = last.reduce((s, w) => s + w.spilled + w.managed, 0);
        return last.length === 1 && held >= n * 10_000_000 ? last : undefined;
      });
      const spilled = info.reduce((s, w) => s + w.spilled, 0);
      const managed = info.reduce((s, w) => s + w.managed, 0);
      assert.ok(spilled + managed < n * 10_000_000 + 100_000, JSON.stringify(info));
      assert.ok(spilled >= n * 10_000_000 - 0.6 * 400e6, `${spilled} spilled`);
      // memory holds at most the target (60%)
      for (const w of info) assert.ok(w.managed <= 0.6 * 400e6, `${w.name} holds ${w.managed} in memory`);
      // every spilled block comes back whole: the sums read every one again, on its worker or another
      const sums = (await client.gather(made.map((f) => client.options({ key: `again-${f.key}` }).submit(blockSum, f)))) as number[];
      assert.deepEqual(sums, made.map((_, i) => 2 * (i % 251) + 10_000_000));
      const first = (await made[0]!.result()) as Uint8Array;
      assert.deepEqual([first.length, first[0], first[9_999_999]], [10_000_000, 0, 0]);
      // by spilling, not by restarts: the same worker process throughout
      assert.equal(Object.values(((await client.schedulerInfo()) as Info).workers)[0]!.pid, pid);
      // a worker killed outright cannot clean up its spill folder: its nanny does
      const folder = join(tmpdir(), `skein-spill-worker-0-${pid}`);
      assert.ok(existsSync(folder), folder);
      process.kill(pid, 'SIGKILL');
      const gone = Date.now() + 10_000;
      while (existsSync(folder) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      assert.equal(existsSync(folder), false, 'the killed worker\'s spill folder is removed');
    } finally {
      await client.close();
    }
  });

  it('restarts a worker whose task alone needs more than its limit, and fails the task saying how much memory it reached', { timeout: 60_000 }, async () => {
    const client = new Client({ nWorkers: 1, threadsPerWorker: 1, memoryLimit: '300MB', allowedFailures: 1, dashboardAddress: null, setAsDefault: false });
    try {
      // 400 MB written and held for 3 s: over the terminate threshold (95%: 285 MB) on every try
      const huge = client.options({ key: 'huge' }).submit(hog, 400, 3000);
      const error = (await huge.exception()) as Error & { workers: string[]; memory: boolean };
      assert.equal(error.name, 'KilledWorker');
      assert.match(
        error.message,
        /^Task "huge" was running each time its worker went over its memory limit and was restarted \(worker-0 reached (\d+) MB of its 300 MB limit; worker-0 reached (\d+) MB of its 300 MB limit\); after 1 restart it is not tried again\. It needs more memory than a worker has: give workers more \(memoryLimit\), or split the task so each part needs less\.$/,
      );
      for (const m of error.message.matchAll(/reached (\d+) MB/g)) assert.ok(Number(m[1]) >= 285, m[0]);
      assert.deepEqual([error.workers, error.memory], [['worker-0', 'worker-0'], true]);
      // the worker came back: the cluster goes on
      assert.equal(await client.submit(inc, 41).result(), 42);
    } finally {
      await client.close();
    }
  });

  it('pauses a worker over the pause threshold: it starts nothing until the memory is let go, then goes on', { timeout: 60_000 }, async () => {
    // no spilling and no restart here: only the pause step, at 50% of 460 MB (230 MB)
    const client = withConfig({ memory: { target: null, spill: null, pause: 0.5, terminate: null } }, () => new Client({ nWorkers: 1, threadsPerWorker: 1, memoryLimit: '460MB', dashboardAddress: null, setAsDefault: false }));
    try {
      // two results of 100 MB held on the worker (~80 MB of its own): over 230 MB only once the
      // second is made, so the pause cannot hold back a block the test waits for
      const held = Array.from({ length: 2 }, (_, i) => client.options({ key: `held-${i}` }).submit(block, i, 100));
      await wait(held, { timeout: 30_000 }); // a test that failed must not keep its file running
      await until('the worker paused', async () => (Object.values(((await client.schedulerInfo()) as Info).workers)[0]!.paused ? true : undefined));
      const next = client.options({ key: 'after-pause' }).submit(inc, 1);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(next.status, 'pending', 'a paused worker starts nothing');
      for (const f of held) f.release();
      assert.equal(await next.result(), 2);
      const story = (await client.story('after-pause')) as Array<{ from: string; to: string }>;
      assert.deepEqual(story.map((e) => `${e.from}>${e.to}`), ['released>waiting', 'waiting>queued', 'queued>processing', 'processing>memory']);
      assert.equal(Object.values(((await client.schedulerInfo()) as Info).workers)[0]!.paused, false);
    } finally {
      await client.close();
    }
  });
});
