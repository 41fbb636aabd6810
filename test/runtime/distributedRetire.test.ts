// Shrinking a cluster loses nothing (dask/distributed's test_retire_* and deploy/tests/test_adaptive.py):
// a worker retired on purpose finishes what it runs, hands every result only it holds to a
// worker that stays, and a gather or a dependent racing the retirement reads from the new
// holder. The fault loops of issue 29: scale(4 → 1) during gathers, and adapt shrinking while
// tasks run, 20 rounds each.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, LocalCluster } from 'skein/distributed';
import { inc, sleep } from '../data/ops.js';
import { until } from '../until.js';

const workerNames = (cluster: LocalCluster): string[] => [...cluster.scheduler.state.workers.values()].map((ws) => ws.name).sort();

describe('retiring workers (RetireWorker)', () => {
  it('test_retire_workers_2: a task running on a retiring worker finishes there, and its result moves to a worker that stays before it goes', async () => {
    const client = new Client({ processes: false, nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false, validate: true });
    try {
      await client.ready;
      const cluster = client.cluster as LocalCluster;
      const x = client.options({ key: 'running-on-1', workers: 'worker-1' }).submit(sleep, 300);
      await until('x running', () => (cluster.scheduler.state.tasks.get('running-on-1')?.state === 'processing' ? true : undefined));
      const byName = new Map([...cluster.scheduler.state.workers.values()].map((ws) => [ws.name, ws.address]));
      await cluster.scheduler.retire([byName.get('worker-1')!]);
      // retired only once x finished and was copied
      assert.equal(cluster.scheduler.state.tasks.get('running-on-1')?.state, 'memory');
      assert.deepEqual(new Set((await client.whoHas(x))['running-on-1']), new Set([byName.get('worker-0'), byName.get('worker-1')]));
      assert.equal(await x, 300);
      assert.equal((await client.story(x)).filter((e) => e.to === 'processing').length, 1, 'x ran once');
    } finally {
      await client.close();
    }
  });

  for (const processes of [false, true]) {
    const rounds = processes ? 5 : 20;
    it(`test_retire_many_workers: scale(4 → 1) during gathers and dependents, ${rounds} rounds (processes: ${processes}): every value exact, nothing computed twice`, { timeout: 240_000 }, async () => {
      for (let round = 0; round < rounds; round++) {
        const client = new Client({ processes, nWorkers: 4, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
        try {
          await client.ready;
          const cluster = client.cluster as LocalCluster;
          const held = client.map(inc, Array.from({ length: 200 }, (_, i) => i + round * 1000));
          await client.gather(held);
          let stop = false;
          const gathers = (async () => {
            let n = 0;
            while (!stop || n === 0) {
              assert.deepEqual(await client.gather(held), Array.from({ length: 200 }, (_, i) => i + round * 1000 + 1));
              n++;
              // (in-process comms settle in microtasks: a loop that never yields would starve the scale's timers)
              await new Promise((resolve) => setImmediate(resolve));
            }
          })();
          const dependents = (async () => {
            let n = 0;
            while (!stop || n === 0) {
              const next = held.slice(0, 20).map((f) => client.options({ pure: false }).submit(inc, f));
              assert.deepEqual(await client.gather(next), Array.from({ length: 20 }, (_, i) => i + round * 1000 + 2));
              n++;
              await new Promise((resolve) => setImmediate(resolve));
            }
          })();
          await cluster.scale(1);
          stop = true;
          await Promise.all([gathers, dependents]);
          assert.deepEqual(workerNames(cluster).length, 1);
          assert.deepEqual(await client.gather(held), Array.from({ length: 200 }, (_, i) => i + round * 1000 + 1));
          for (const f of held) assert.equal(cluster.scheduler.state.story(f.key).filter((e) => e.to === 'processing').length, 1, `${f.key} computed once (round ${round})`);
        } finally {
          await client.close();
        }
      }
    });
  }

  it('test_adapt_down: adapt({ minimum: 2, maximum: 10 }) with 40 tasks of 200 ms, shrinking while they run, 20 rounds: every result, none lost', { timeout: 300_000 }, async () => {
    for (let round = 0; round < 20; round++) {
      const client = new Client({ processes: false, nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
      try {
        await client.ready;
        const cluster = client.cluster as LocalCluster;
        const adaptive = cluster.adapt({ minimum: 2, maximum: 10, interval: '50ms', targetDuration: '200ms', waitCount: 1 });
        const futures = Array.from({ length: 40 }, (_, i) => client.options({ pure: false }).submit(sleep, 200 + (i % 7)));
        assert.deepEqual(await client.gather(futures), Array.from({ length: 40 }, (_, i) => 200 + (i % 7)));
        assert.ok(Math.max(...cluster.scaleLog.map((e) => e.workers)) > 2, `it scaled up (round ${round}): ${JSON.stringify(cluster.scaleLog)}`);
        await until('back to the minimum', () => (workerNames(cluster).length === 2 ? true : undefined), 30_000);
        assert.deepEqual(await client.gather(futures), Array.from({ length: 40 }, (_, i) => 200 + (i % 7)));
        adaptive.stop();
      } finally {
        await client.close();
      }
    }
  });
});
