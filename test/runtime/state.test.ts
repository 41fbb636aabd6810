// The core's state functions, compared with literal states (by key, through describeState).
//
//   x ─▶ y ─▶ z ◀─ w         (x = 1 and w = 10 are literals; z = add(y, w))
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateCounts, checkInvariants, compileGraph, describeState, failTask, finishTask, orderCompiled, releaseData, startStateFromGraph, startTask, transitionTimes } from 'skein/core';
import { get, type Callback } from 'skein';
import { add, inc, spin } from '../data/ops.js';
import { liveTransitions } from '../../runtime/runner/live.js';
import type { FromRunner } from '../../runtime/runner/protocol.js';

function setup(entries: Array<[string, unknown]>, results: string[]) {
  const graph = compileGraph(new Map(entries));
  const priority = orderCompiled(graph);
  const isResult = new Uint8Array(graph.size);
  for (const k of results) isResult[graph.index.get(k)!] = 1;
  const state = startStateFromGraph(graph, priority, isResult);
  /** Takes the next ready task, as the core does, and finishes it with `value`. */
  const run = (key: string, value: unknown): void => {
    const t = state.ready.pop()!;
    assert.equal(graph.keys[t], key, 'the ready stack gives tasks in priority order');
    startTask(state, t);
    finishTask(state, t, value);
  };
  return { graph, state, run };
}

const xyzw: Array<[string, unknown]> = [
  ['x', 1],
  ['y', [inc, 'x']],
  ['w', 10],
  ['z', [add, 'y', 'w']],
];

describe('scheduler state', () => {
  it('startStateFromGraph puts literals in the cache and tasks with none missing in ready', () => {
    const { state } = setup(xyzw, ['z']);
    assert.deepEqual(describeState(state), {
      cache: { x: 1, w: 10 },
      waiting: { z: 1 },
      waitingData: { x: 1, w: 1 },
      ready: ['y'],
      running: [],
      finished: [],
      released: [],
    });
  });

  it('finishTask makes dependents ready and releases what no one needs', () => {
    const { state, run } = setup(xyzw, ['z']);
    run('y', 2);
    assert.deepEqual(describeState(state), {
      cache: { y: 2, w: 10 },
      waiting: {},
      waitingData: { y: 1, w: 1 },
      ready: ['z'],
      running: [],
      finished: ['y'],
      released: ['x'],
    });
    run('z', 12);
    assert.deepEqual(describeState(state), {
      cache: { z: 12 },
      waiting: {},
      waitingData: {},
      ready: [],
      running: [],
      finished: ['y', 'z'],
      released: ['x', 'y', 'w'],
    });
  });

  it('finishTask keeps requested results even when their dependents are done', () => {
    const { state, run } = setup(xyzw, ['y', 'z']);
    run('y', 2);
    run('z', 12);
    assert.deepEqual(describeState(state).cache, { y: 2, z: 12 });
    assert.deepEqual(describeState(state).released, ['x', 'w']);
  });

  it('pushes several newly ready tasks so the lowest priority pops first', () => {
    //      ┌─▶ b ──┐
    //  a ──┼─▶ d ──┴─▶ e        order: a 0, d 1, b 2, e 3, c 4, f 5
    //      └─▶ c ─────▶ f
    const { graph, state, run } = setup(
      [
        ['a', [inc, 0]],
        ['b', [inc, 'a']],
        ['c', [inc, 'a']],
        ['d', [inc, 'a']],
        ['e', [add, 'd', 'b']],
        ['f', [inc, 'c']],
      ],
      ['e', 'f'],
    );
    assert.deepEqual(Array.from(state.priority), [0, 2, 4, 1, 3, 5]);
    run('a', 1);
    assert.deepEqual(describeState(state).ready, ['c', 'b', 'd']);
    for (const [key, value] of [['d', 2], ['b', 2], ['e', 4], ['c', 2], ['f', 3]] as const) run(key, value);
    assert.deepEqual(describeState(state).cache, { e: 4, f: 3 });
    assert.equal(graph.size, 6);
  });

  it('releaseData drops the result and records it', () => {
    const { state } = setup(xyzw, ['z']);
    releaseData(state, 0);
    assert.deepEqual(describeState(state).cache, { w: 10 });
    assert.deepEqual(describeState(state).released, ['x']);
  });
});

describe('transitions', () => {
  it('logs every state change in order, from the start state to the last release', async () => {
    let log: Array<[string, string, string]> = [];
    const spy: Callback = {
      transitions: true,
      finish: (_dsk, state) => {
        log = state.log!.entries(state.graph.keys);
      },
    };
    assert.equal(await get(Object.fromEntries(xyzw), 'z', { scheduler: 'sync', callbacks: [spy] }), 12);
    assert.deepEqual(log, [
      ['x', 'waiting', 'memory'],
      ['w', 'waiting', 'memory'],
      ['y', 'waiting', 'ready'],
      ['y', 'ready', 'running'],
      ['y', 'running', 'memory'],
      ['z', 'waiting', 'ready'],
      ['x', 'memory', 'released'],
      ['z', 'ready', 'running'],
      ['z', 'running', 'memory'],
      ['y', 'memory', 'released'],
      ['w', 'memory', 'released'],
    ]);
  });

  for (const scheduler of ['threads', 'processes'] as const) {
    it(`${scheduler}: the live states count as running only what a worker has begun (2 workers, 8 tasks handed over at once)`, async () => {
      const dsk: Record<string, unknown> = {};
      for (let i = 0; i < 8; i++) dsk[`spin-${i}`] = [spin, 120];
      const shown = new Map<number, string>();
      let mostRunning = 0;
      let log: Array<[string, string, string]> = [];
      const live = liveTransitions(
        () => 8,
        (message: FromRunner) => {
          if (message.kind !== 'transitions') return;
          message.tasks.forEach((t, i) => shown.set(t, message.states[i]!));
          mostRunning = Math.max(mostRunning, [...shown.values()].filter((c) => c === 'u').length);
        },
      );
      const keep: Callback = { transitions: true, finish: (_dsk, state) => (log = state.log!.entries(state.graph.keys)) };
      const keys = Object.keys(dsk);
      const results = (await get(dsk, keys, { scheduler, numWorkers: 2, callbacks: [live, keep] })) as number[];
      assert.equal(results.filter((x) => Number.isInteger(x) && x >= 0 && x < 1000003).length, 8);
      assert.equal(mostRunning, 2, 'at most one task per worker shows as running, and both workers were seen busy');
      assert.deepEqual([...shown.values()], keys.map(() => 'm'));
      // every task: handed over, begun by its worker (running -> running), then back
      for (const key of keys) {
        assert.deepEqual(
          log.filter(([k]) => k === key).map(([, from, to]) => `${from}>${to}`),
          ['waiting>ready', 'ready>running', 'running>running', 'running>memory'],
          key,
        );
      }
    });
  }

  it('counts tasks per state from the log, reading only what is new', () => {
    const graph = compileGraph(new Map(xyzw));
    const state = startStateFromGraph(graph, orderCompiled(graph), Uint8Array.from([0, 0, 0, 1]), false, true);
    const counts = new StateCounts(graph.size);
    assert.deepEqual(counts.update(state.log), { waiting: 1, ready: 1, running: 0, memory: 2, released: 0, erred: 0 });
    const y = graph.index.get('y')!;
    startTask(state, y);
    assert.deepEqual(counts.update(state.log), { waiting: 1, ready: 0, running: 1, memory: 2, released: 0, erred: 0 });
    finishTask(state, y, 2);
    const z = state.ready.pop()!;
    startTask(state, z);
    failTask(state, z);
    assert.deepEqual(counts.update(state.log), { waiting: 0, ready: 0, running: 0, memory: 2, released: 1, erred: 1 });
    assert.deepEqual(counts.update(state.log), { waiting: 0, ready: 0, running: 0, memory: 2, released: 1, erred: 1 });
  });

  it('reads transition times from the log: literals were never ready nor received, a fused link is ready when it starts', () => {
    const graph = compileGraph(new Map(xyzw));
    const state = startStateFromGraph(graph, orderCompiled(graph), Uint8Array.from([0, 0, 0, 1]), true);
    const [x, y, w, z] = ['x', 'y', 'w', 'z'].map((k) => graph.index.get(k)!) as [number, number, number, number];
    // y runs and z goes to the same worker as a link of its chain: waiting -> running, no ready
    startTask(state, y);
    startTask(state, z);
    state.timings!.started[z] = 5;
    finishTask(state, y, 2, 3);
    finishTask(state, z, 12, 7);
    const times = transitionTimes(state);
    assert.ok(Number.isNaN(times.ready[x]!) && Number.isNaN(times.received[x]!) && Number.isNaN(times.received[w]!));
    assert.ok(times.ready[y]! > 0);
    assert.equal(times.ready[z], 5);
    assert.deepEqual([times.received[y], times.received[z]], [3, 7]);
    assert.deepEqual([times.released[x], times.released[y], times.released[w]], [3, 7, 7]);
    assert.ok(Number.isNaN(times.released[z]!));
    assert.ok(times.erred.every(Number.isNaN));
  });

  it('checkInvariants names the first invariant a state breaks', () => {
    const { state, graph } = setup(xyzw, ['z']);
    checkInvariants(state);
    state.ready.push(graph.index.get('y')!);
    assert.throws(() => checkInvariants(state), { message: 'Scheduler state invariant broken: task "y" is on the ready stack twice. This is a bug in Skein.' });
    state.ready.pop();
    state.status[graph.index.get('z')!] = 1; // "ready" while y is not done
    assert.throws(() => checkInvariants(state), { message: 'Scheduler state invariant broken: task "z" is ready but not on the ready stack. This is a bug in Skein.' });
  });
});
