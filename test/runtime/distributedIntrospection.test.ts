// Looking into a running cluster: who holds what, the task stream, functions run on every
// worker's process and on the scheduler's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'skein/distributed';
import { fail, inc, sleep, tagWithPid } from '../data/ops.js';

describe('distributed introspection', () => {
  let client: Client;
  before(async () => {
    client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
    await client.ready;
  });
  after(async () => {
    await client.close();
  });

  it('hasWhat lists the keys each worker holds, as whoHas does the other way round', async () => {
    const fs = client.map(inc, [1, 2, 3, 4, 5, 6]);
    await client.gather(fs);
    const hasWhat = await client.hasWhat();
    const whoHas = await client.whoHas(fs.map((f) => f.key));
    const held = Object.entries(hasWhat).flatMap(([address, keys]) => keys.filter((k) => k in whoHas).map((k) => [k, address] as const));
    assert.deepEqual(Object.fromEntries(held.sort()), Object.fromEntries(Object.entries(whoHas).map(([k, [a]]) => [k, a!]).sort()));
    assert.equal(Object.keys(hasWhat).length, 2);
  });

  it('getTaskStream lists the tasks that ran since a time: key, worker, thread, start, end, status', async () => {
    const since = Date.now();
    await assert.rejects(client.options({ key: 'raises' }).submit(fail, 'no').result());
    await client.options({ key: 'inc-100' }).submit(inc, 100).result();
    const stream = await client.getTaskStream({ start: since });
    assert.deepEqual(stream.map((e) => [e.key, e.status]).sort(), [['inc-100', 'memory'], ['raises', 'erred']]);
    for (const e of stream) {
      assert.match(e.worker, /^worker-[01]$/);
      assert.match(e.thread, /^worker-[01]\/thread-\d+$/);
      assert.ok(e.start >= since && e.end >= e.start, JSON.stringify(e));
    }
    assert.ok((await client.getTaskStream()).length >= 8);
  });

  it("run calls a function in every worker's process (or those named), runOnScheduler in the scheduler's", async () => {
    const info = (await client.schedulerInfo()) as { workers: Record<string, { name: string; pid: number }> };
    const everywhere = await client.run(tagWithPid, { args: ['w'] });
    assert.deepEqual(everywhere, Object.fromEntries(Object.entries(info.workers).map(([address, w]) => [address, `w:${w.pid}`])));
    const [first] = Object.values(info.workers);
    const one = await client.run(tagWithPid, { args: ['one'], workers: [first!.name] });
    assert.deepEqual(Object.values(one), [`one:${first!.pid}`]);
    // the scheduler of a LocalCluster lives in this process
    assert.equal(await client.runOnScheduler(tagWithPid, 's'), `s:${process.pid}`);
    await assert.rejects(client.run(fail, { args: ['in run'] }), { message: 'in run' });
    await assert.rejects(client.runOnScheduler(fail, 'on scheduler'), { message: 'on scheduler' });
  });
});

describe('client.restart()', () => {
  for (const processes of [true, false]) {
    it(`${processes ? 'worker processes' : 'in-process workers'}: every future cancelled, every worker new, the cluster goes on`, { timeout: 60_000 }, async () => {
      const client = new Client({ nWorkers: 2, threadsPerWorker: 1, processes, dashboardAddress: null, setAsDefault: false });
      try {
        await client.ready;
        const before = Object.keys(((await client.schedulerInfo()) as { workers: object }).workers);
        const done = client.options({ key: 'done-before' }).submit(inc, 1);
        await done.result();
        const running = client.options({ key: 'still-running' }).submit(sleep, 10_000);
        await client.restart();
        assert.deepEqual([done.status, running.status], ['cancelled', 'cancelled']);
        const after = Object.keys(((await client.schedulerInfo()) as { workers: object }).workers);
        assert.equal(after.length, 2);
        assert.deepEqual(after.filter((a) => before.includes(a)), [], 'new workers (new data addresses)');
        assert.equal(await client.submit(inc, 41).result(), 42);
      } finally {
        await client.close();
      }
    });
  }
});
