// The delayed API: keys, graph merging, shared work.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compute, config, delayed, isDelayed, keyGroup } from 'skein';
import { add, inc, pack, sum } from '../data/ops.js';

describe('delayed', () => {
  it('names keys <fnName>-<token>, the same for the same pure call', () => {
    const a = delayed(inc, { pure: true })(1);
    const b = delayed(inc, { pure: true })(1);
    const c = delayed(inc, { pure: true })(2);
    assert.match(a.key, /^inc-[0-9a-f]{16}$/);
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, c.key);
    assert.equal(keyGroup(a.key), 'inc');
  });

  it("is impure by default, as Dask's delayed: each call its own task; the delayedPure key changes it", async () => {
    const [x, y] = await compute(delayed(Math.random)(), delayed(Math.random)(), { scheduler: 'sync' });
    assert.notEqual(x, y, 'two calls, two numbers');
    assert.notEqual(delayed(inc)(1).key, delayed(inc)(1).key);
    {
      using _ = config.set({ delayedPure: true });
      assert.equal(delayed(inc)(1).key, delayed(inc)(1).key);
    }
    // the same program makes the same keys on every run (the CLI lists keys in one process, runs them in another)
    const program = "import { delayed } from 'skein'; const inc = (x) => x + 1; console.log([delayed(inc)(1).key, delayed(inc)(1).key, delayed(Math.max)(2).key].join(' '));";
    const run = (): string => execFileSync(process.execPath, ['--input-type=module', '-e', program], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
    const first = run();
    assert.match(first, /^inc-[0-9a-f]{16} inc-[0-9a-f]{16} max-[0-9a-f]{16}\n$/);
    assert.equal(run(), first);
  });

  it('tells closures with different captured values apart, and -0 from 0', async () => {
    const adder = (n: number) => (x: number) => x + n;
    const [a, b] = [delayed(adder(1))(5), delayed(adder(2))(5)];
    assert.notEqual(a.key, b.key);
    assert.deepEqual(await compute(a, b, { scheduler: 'sync' }), [6, 7]);
    assert.notEqual(delayed(inc)(-0).key, delayed(inc)(0).key);
  });

  it('gives a fresh key per call with {pure: false}, and uses an explicit key', () => {
    const impure = delayed(inc, { pure: false });
    assert.notEqual(impure(1).key, impure(1).key);
    assert.equal(delayed(add, { key: 'total' })(1, 2).key, 'total');
    assert.match(delayed(inc, { name: 'step' })(1).key, /^step-/);
  });

  it('merges graphs as values are composed, dependencies first', () => {
    const a = delayed(inc, { key: 'a' })(1);
    const b = delayed(add, { key: 'b' })(a, 10);
    const c = delayed(sum, { key: 'c' })(a, b);
    const d = delayed(pack, { key: 'd' })([a, { x: c }]);
    assert.deepEqual([...d.graph.keys()], ['a', 'b', 'c', 'd']);
    assert.deepEqual(d.graph.get('c'), [sum, 'a', 'b']);
    assert.deepEqual(d.graph.get('d'), [pack, ['a', { x: 'c' }]]);
  });

  it('wraps plain values and collections of delayed values', async () => {
    const a = delayed(inc)(1);
    const box = delayed({ one: a, two: [a, 3] });
    assert.ok(isDelayed(box));
    assert.match(box.key, /^dict-/);
    assert.deepEqual(await box.compute({ scheduler: 'sync' }), { one: 2, two: [2, 3] });
    assert.equal(await delayed(5).compute({ scheduler: 'sync' }), 5);
  });

  it('computes shared work once', async () => {
    let calls = 0;
    const counted = (x: number): number => {
      calls++;
      return x * 10;
    };
    const shared = delayed(counted)(4);
    const left = delayed(inc)(shared);
    const right = delayed(add)(shared, 1);
    assert.deepEqual(await compute(left, right, { scheduler: 'sync' }), [41, 41]);
    assert.equal(calls, 1);
  });

  it('writes its graph as the panel in a self-contained HTML file', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'skein-visualize-'));
    try {
      const total = delayed(add, { key: 'total' })(delayed(inc, { key: 'a' })(1), delayed(inc, { key: 'b' })(2));
      total.visualizeGraph(join(dir, 'g.html'));
      const html = readFileSync(join(dir, 'g.html'), 'utf8');
      assert.match(html, /^<!DOCTYPE html>/);
      const data = JSON.parse(/<script type="application\/json" id="skein-data">(.*?)<\/script>/s.exec(html)![1]!) as { record: { graph: { keys: string[] } } };
      assert.deepEqual(data.record.graph.keys, ['a', 'b', 'total']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds a long chain in linear time', async () => {
    let v = delayed(0);
    for (let i = 0; i < 20_000; i++) v = delayed(inc)(v);
    assert.equal(v.graph.size, 20_001);
    assert.equal(await v.compute({ scheduler: 'sync' }), 20_000);
  });
});
