// The one value walker (runtime/graph/walk.ts): the graph spec's rules, applied the same way by
// every walk, on literal values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Visitor, WALK, containsTask, cyclePath, forEachKey, mapValue, scanValue } from '../../runtime/graph/walk.js';
import { Counter, add, inc } from '../data/ops.js';

const WHERE = () => ['Task "t"', 'task'] as const;

/** Every leaf a scan meets, in order. */
function leaves(value: unknown, tasks: boolean, instance?: (v: object) => boolean): unknown[] {
  const out: unknown[] = [];
  scanValue(value, { tasks, leaf: (v, o) => void o.push(v), instance }, out, WHERE);
  return out;
}

describe('the value walker', () => {
  it('walks a task’s arguments, not its head; with tasks: false the head is one more leaf', () => {
    const task = [add, 'x', { a: ['y', 1], b: [inc, 'z'] }, new Date(0)];
    assert.deepEqual(leaves(task, true), ['x', 'y', 1, 'z', new Date(0)]);
    assert.deepEqual(leaves(task, false), [add, 'x', 'y', 1, inc, 'z', new Date(0)]);
  });

  it('treats class instances, Maps and null-prototype objects by the rules: instances are leaves unless asked for', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'x' });
    const value = [new Counter(3), new Map([['m', 'x']]), bare];
    assert.deepEqual(leaves(value, true), [new Counter(3), new Map([['m', 'x']]), 'x']);
    assert.deepEqual(leaves(value, true, (v) => v instanceof Counter), [3, new Map([['m', 'x']]), 'x']);
  });

  it('stops a scan at the first hook that says so', () => {
    const seen: unknown[] = [];
    const stopped = scanValue([1, 2, 3, 4], { tasks: true, leaf: (v, s) => (s.push(v), v === 2) }, seen, WHERE);
    assert.equal(stopped, true);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(containsTask([1, { a: [[inc, 1]] }]), true);
    assert.equal(containsTask([1, { a: ['inc', 1] }]), false);
  });

  it('lists the keys a value names, in order, repeats included', () => {
    const keys: string[] = [];
    forEachKey([add, 'x', ['y', 'x', 'nope'], { a: 'y' }], (s) => s === 'x' || s === 'y', (k) => void keys.push(k), WHERE);
    assert.deepEqual(keys, ['x', 'y', 'x', 'y']);
    forEachKey('x', (s) => s === 'x', (k) => void keys.push(k), WHERE);
    assert.deepEqual(keys, ['x', 'y', 'x', 'y', 'x']);
  });

  it('rebuilds arrays and plain objects, replaces leaves and tasks, and leaves the input as it was', () => {
    const input = ['x', { a: ['x', 2], b: [add, 'x', 1] }];
    const visitor: Visitor<number> = { tasks: true, leaf: (v, n) => (v === 'x' ? n : v), task: (t) => `task ${t[0].name}` };
    assert.deepEqual(mapValue(input, visitor, 10, WHERE), [10, { a: [10, 2], b: 'task add' }]);
    assert.deepEqual(input, ['x', { a: ['x', 2], b: [add, 'x', 1] }]);
    assert.equal(mapValue([add, 1, 2], visitor, 0, WHERE), 'task add');
    // without a task hook, a task is rebuilt with its head kept and its arguments mapped
    assert.deepEqual(mapValue([inc, 'x', [add, 'x']], { tasks: true, leaf: (v) => (v === 'x' ? 1 : v) }, null, WHERE), [inc, 1, [add, 1]]);
  });

  it('rebuilds class instances from their mapped fields when asked, and lets enter replace a container', () => {
    const visitor: Visitor<null> = {
      tasks: false,
      leaf: (v) => (typeof v === 'number' ? v * 2 : v),
      instance: (v) => v instanceof Counter,
      rebuild: (_v, fields) => ({ counter: fields }),
      enter: (v) => ('marker' in v ? 'replaced' : WALK),
    };
    assert.deepEqual(mapValue([new Counter(4), { marker: 1 }, { n: 1 }], visitor, null, WHERE), [{ counter: { n: 8 } }, 'replaced', { n: 2 }]);
  });

  it('refuses a value that contains itself with the path of the cycle, through instances it walks too', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = [loop];
    const message = 'Task "t" has an argument that contains itself (task[1].self[0] → task[1]). Skein walks a task\'s arguments for the keys they name, so they must not loop back. Make the object the result of a task instead (results are passed as they are, cycles included), or break the cycle.';
    assert.throws(() => scanValue([inc, loop], { tasks: true }, null, WHERE), { name: 'SkeinError', message });
    assert.throws(() => mapValue([inc, loop], { tasks: true }, null, WHERE), { name: 'SkeinError', message });
    const node = new Counter(1) as Counter & { next?: unknown };
    node.next = { 'odd key': node };
    assert.equal(cyclePath([node], 'value'), undefined);
    assert.equal(cyclePath([node], 'value', (v) => v instanceof Counter), 'value[0].next["odd key"] → value[0]');
  });

  it('says when a value is nested too deep without a cycle', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 1100; i++) deep = [deep];
    assert.throws(() => scanValue(deep, { tasks: true }, null, WHERE), { message: /^Task "t" has arguments nested more than 1000 levels deep; / });
  });
});
