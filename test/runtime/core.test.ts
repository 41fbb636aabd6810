// The scheduling core under the sync scheduler: callback order, releasing, gates, errors in
// callbacks, large graphs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MILLION_TOTAL, millionGraph } from '../data/million.js';
import { get, registerCallback, type Callback } from 'skein';
import { describeState } from 'skein/core';
import { add, fail, inc, sum } from '../data/ops.js';

function recorder(events: string[]): Callback {
  return {
    start: (dsk) => events.push(`start ${[...dsk.keys()].join(',')}`),
    startState: (_dsk, state) => events.push(`startState ready=${describeState(state).ready.join(',')}`),
    pretask: (key) => void events.push(`pretask ${key}`),
    posttask: (key, result, _dsk, state) => events.push(`posttask ${key}=${String(result)} cache=${Object.keys(describeState(state).cache).sort().join(',')}`),
    finish: (_dsk, _state, failed) => events.push(`finish failed=${failed}`),
  };
}

describe('core (sync)', () => {
  it('fires callbacks in order and releases results as soon as nothing needs them', async () => {
    //  a ─▶ b ─▶ d ◀─ c ◀─ a
    const events: string[] = [];
    const graph = { a: [inc, 0], b: [inc, 'a'], c: [add, 'a', 10], d: [add, 'b', 'c'], unused: [fail, 'x'] };
    assert.equal(await get(graph, 'd', { scheduler: 'sync', callbacks: [recorder(events)] }), 13);
    assert.deepEqual(events, [
      'start a,b,c,d',
      'startState ready=a',
      'pretask a',
      'posttask a=1 cache=a',
      'pretask b',
      'posttask b=2 cache=a,b',
      'pretask c',
      'posttask c=11 cache=b,c',
      'pretask d',
      'posttask d=13 cache=d',
      'finish failed=false',
    ]);
  });

  it('stops at the first error: no later task starts, finish reports failure', async () => {
    const events: string[] = [];
    const graph = { a: [inc, 0], b: [fail, 'boom'], c: [inc, 5], d: [sum, 'a', 'b', 'c'] };
    await assert.rejects(get(graph, 'd', { scheduler: 'sync', callbacks: [recorder(events)] }), { message: 'Task "b" failed: boom\n  finished before the failure: a' });
    assert.deepEqual(events.slice(2), ['pretask a', 'posttask a=1 cache=a', 'pretask b', 'finish failed=true']);
  });

  it('waits at a pretask gate that returns a promise', async () => {
    const order: string[] = [];
    let open: () => void = () => {};
    const gate: Callback = {
      pretask: (key) => {
        order.push(`gate ${key}`);
        return key === 'b' ? new Promise<void>((r) => (open = r)) : undefined;
      },
      posttask: (key) => void order.push(`done ${key}`),
    };
    const run = get({ a: [inc, 0], b: [inc, 'a'] }, 'b', { scheduler: 'sync', callbacks: [gate] });
    // polled until the gate is reached, then: nothing after it runs while it is shut
    for (const deadline = Date.now() + 5000; order.length < 3 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(order, ['gate a', 'done a', 'gate b']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['gate a', 'done a', 'gate b']);
    open();
    assert.equal(await run, 2);
    assert.deepEqual(order, ['gate a', 'done a', 'gate b', 'done b']);
  });

  it('fails cleanly when a callback throws, naming the hook and key', async () => {
    const events: string[] = [];
    const bad: Callback = { posttask: (key) => { if (key === 'a') throw new Error('observer bug'); } };
    await assert.rejects(get({ a: [inc, 0], b: [inc, 'a'] }, 'b', { scheduler: 'sync', callbacks: [bad, recorder(events)] }), {
      message: 'Callback posttask for task "a" threw: observer bug. The run was stopped; fix or remove the callback.',
    });
    assert.ok(!events.includes('pretask b'));
    assert.equal(events.at(-1), 'finish failed=true');
  });

  it('fails a successful run when a finish callback throws', async () => {
    const bad: Callback = { finish: () => { throw new Error('report writer broke'); } };
    await assert.rejects(get({ x: [inc, 1] }, 'x', { scheduler: 'sync', callbacks: [bad] }), {
      message: 'Callback finish threw: report writer broke. The run was stopped; fix or remove the callback.',
    });
  });

  it('cancels while a pretask gate holds the run', async () => {
    const controller = new AbortController();
    const gate: Callback = { pretask: () => new Promise<void>(() => {}) };
    setTimeout(() => controller.abort(new Error('stop')), 30);
    await assert.rejects(get({ x: [inc, 1] }, 'x', { scheduler: 'sync', callbacks: [gate], signal: controller.signal }), { message: 'Computation cancelled: stop; finished before cancelling: none' });
  });

  it('runs globally registered callbacks until disposed', async () => {
    const events: string[] = [];
    {
      using _ = registerCallback({ start: () => events.push('global') });
      await get({ x: [inc, 1] }, 'x', { scheduler: 'sync' });
    }
    await get({ x: [inc, 1] }, 'x', { scheduler: 'sync' });
    assert.deepEqual(events, ['global']);
  });

  it('runs 1,000,000 trivial tasks under the default heap', async () => {
    assert.equal(await get(millionGraph(), 'total', { scheduler: 'sync' }), MILLION_TOTAL);
  });
});
