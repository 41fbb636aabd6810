// Scaling a LocalCluster: by hand (scale) and with the work (adapt), workers retired only after
// the results only they held were copied elsewhere: nothing computed again, nothing lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, LocalCluster, parseDuration } from 'skein/distributed';
import { inc, spinThen } from '../data/ops.js';
import { until } from '../until.js';

const workerCount = async (client: Client): Promise<number> => Object.keys(((await client.schedulerInfo()) as { workers: object }).workers).length;

describe('scaling a LocalCluster', () => {
  it("reads durations as ms or '200ms', '5s', '2m'", () => {
    assert.deepEqual([parseDuration(250, 'x'), parseDuration('200ms', 'x'), parseDuration('5s', 'x'), parseDuration('1.5s', 'x'), parseDuration('2m', 'x')], [250, 200, 5000, 1500, 120_000]);
    assert.throws(() => parseDuration('soon', 'interval'), { message: `interval must be milliseconds or a duration such as '200ms', '5s' or '2m'; got "soon"` });
  });

  it('scale(n) starts workers and retires them, copying what only they hold first', { timeout: 90_000 }, async () => {
    const cluster = new LocalCluster({ nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null });
    const client = new Client(cluster);
    try {
      await client.ready;
      await cluster.scale(3);
      await until('3 workers', async () => ((await workerCount(client)) === 3 ? true : undefined), 30_000);
      // results spread over the three, held by futures
      const held = client.map(inc, Array.from({ length: 30 }, (_, i) => i));
      await client.gather(held);
      await cluster.scale(1);
      assert.deepEqual(cluster.workers, [cluster.workers[0]]);
      await until('1 worker', async () => ((await workerCount(client)) === 1 ? true : undefined), 30_000);
      assert.deepEqual(await client.gather(held), Array.from({ length: 30 }, (_, i) => i + 1));
      for (const f of held) {
        const story = (await client.story(f.key)) as Array<{ to: string }>;
        assert.equal(story.filter((e) => e.to === 'memory').length, 1, `${f.key} computed once: ${JSON.stringify(story)}`);
      }
      assert.deepEqual(cluster.scaleLog.map((e) => e.workers), [3, 1]);
    } finally {
      await client.close();
      await cluster.close();
    }
  });

  it('adapts: a burst of slow tasks scales 1 -> 3, and idle it goes back to the minimum; every result right, none computed twice', { timeout: 120_000 }, async () => {
    const cluster = new LocalCluster({ nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null });
    const client = new Client(cluster);
    try {
      await client.ready;
      const started = Date.now();
      cluster.adapt({ minimum: 1, maximum: 3, targetDuration: '500ms', interval: '200ms', waitCount: 3 });
      // 16 tasks of 300 ms: 4.8 s of work, far more than 500 ms per thread
      const burst = Array.from({ length: 16 }, (_, i) => client.options({ key: `slow-${i}` }).submit(spinThen, 300, i));
      assert.deepEqual(await client.gather(burst), Array.from({ length: 16 }, (_, i) => i));
      assert.equal(Math.max(...cluster.scaleLog.map((e) => e.workers)), 3, JSON.stringify(cluster.scaleLog));
      await until('back to the minimum', () => (cluster.workers.length === 1 ? true : undefined), 30_000);
      await until('1 worker left', async () => ((await workerCount(client)) === 1 ? true : undefined), 30_000);
      assert.deepEqual(await client.gather(burst), Array.from({ length: 16 }, (_, i) => i));
      for (const f of burst) {
        const story = (await client.story(f.key)) as Array<{ to: string }>;
        assert.equal(story.filter((e) => e.to === 'memory').length, 1, f.key);
      }
      // the timeline, for the record
      console.log(`adaptive timeline: ${cluster.scaleLog.map((e) => `${e.time - started} ms: ${e.workers}`).join(', ')}`);
    } finally {
      await client.close();
      await cluster.close();
    }
  });
});
