// Unit tests for the graph functions, with literal expectations. Graphs are drawn with the
// arrow pointing from a dependency to its dependent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cull, getDependencies, getRelations, keyGroup, order, toposort } from 'skein';
import { add, inc, pack, sum } from '../data/ops.js';

describe('getDependencies', () => {
  //  x ─▶ y ─▶ z ◀── (x inside {a: ['y', 1]})
  const graph = { x: 1, y: [inc, 'x'], z: [add, 'x', { a: ['y', 1] }], w: 'z', lit: [pack, 'not-a-key'], list: ['x', 'y', 'x'] };

  it('finds direct, nested and alias dependencies, each once, in order of appearance', () => {
    assert.deepEqual(getDependencies(graph, 'x'), []);
    assert.deepEqual(getDependencies(graph, 'y'), ['x']);
    assert.deepEqual(getDependencies(graph, 'z'), ['x', 'y']);
    assert.deepEqual(getDependencies(graph, 'w'), ['z']);
    assert.deepEqual(getDependencies(graph, 'lit'), []);
    assert.deepEqual(getDependencies(graph, 'list'), ['x', 'y']);
  });

  it('does not treat a task head or class instances as dependencies', () => {
    const date = new Date(0);
    assert.deepEqual(getDependencies({ x: 1, y: [pack, date, new Map([['x', 'x']])] }, 'y'), []);
  });

  it('dedupes many repeated dependencies', () => {
    const g: Record<string, unknown> = { a: 1, b: 2 };
    g.c = [sum, ...Array.from({ length: 20 }, (_, i) => (i % 2 ? 'a' : 'b'))];
    assert.deepEqual(getDependencies(g, 'c'), ['b', 'a']);
  });

  it("finds dependencies inside top-level lists and objects by Dask's rules (what the debugger and the panel draw)", () => {
    const graph = { a: 1, b: 2, c: [1, 2], e: ['a', 'b', 'zzz'], d: [[sum, 'c']], n: [1, [inc, 'a']], o: { x: [sum, 'c'], y: 'b' } };
    const { dependencies, dependents } = getRelations(graph);
    assert.deepEqual(dependencies.get('e'), ['a', 'b']);
    assert.deepEqual(dependencies.get('d'), ['c']);
    assert.deepEqual(dependencies.get('n'), ['a']);
    assert.deepEqual(dependencies.get('o'), ['c', 'b']);
    assert.deepEqual(dependents.get('c'), ['d', 'o']);
  });

  it('computes both directions at once', () => {
    const { dependencies, dependents } = getRelations(new Map(Object.entries(graph)));
    assert.deepEqual(Object.fromEntries(dependents), { x: ['y', 'z', 'list'], y: ['z', 'list'], z: ['w'], w: [], lit: [], list: [] });
    assert.deepEqual(dependencies.get('z'), ['x', 'y']);
  });

  it('ignores keys inherited from Object.prototype', () => {
    assert.deepEqual(getDependencies({ x: [pack, 'constructor', 'toString'] }, 'x'), []);
  });
});

describe('toposort', () => {
  it('puts dependencies first; a key follows right after its last dependency', () => {
    //  a ─▶ c ◀─ b      d (alone)
    assert.deepEqual(toposort({ c: [add, 'a', 'b'], a: 1, b: 2, d: 3 }), ['a', 'b', 'c', 'd']);
  });

  it('names the cycle, each key depending on the next', () => {
    assert.throws(() => toposort({ a: [inc, 'b'], b: [inc, 'c'], c: [inc, 'a'], d: 1 }), {
      message: 'Cycle detected in the graph: a -> b -> c -> a. A task cannot depend on itself, directly or through others; remove one of these dependencies.',
    });
    assert.throws(() => toposort({ self: [inc, 'self'] }), { message: /: self -> self\./ });
  });

  it('handles a chain of 200,000 keys without recursion', () => {
    const g: Record<string, unknown> = { 'c-0': 0 };
    for (let i = 1; i < 200_000; i++) g[`c-${i}`] = [inc, `c-${i - 1}`];
    const sorted = toposort(g);
    assert.equal(sorted.length, 200_000);
    assert.equal(sorted[199_999], 'c-199999');
  });
});

describe('cull', () => {
  //  a ─▶ b ─▶ c      d
  const graph = { a: 1, b: [inc, 'a'], c: [inc, 'b'], d: [inc, 5] };

  it('keeps only what the wanted keys need, in insertion order', () => {
    assert.deepEqual([...cull(graph, 'b').keys()], ['a', 'b']);
    assert.deepEqual([...cull(graph, ['d', 'a']).keys()], ['a', 'd']);
    assert.deepEqual([...cull(graph, ['c', 'd']).keys()], ['a', 'b', 'c', 'd']);
  });

  it('refuses a missing key, suggesting the closest', () => {
    assert.throws(() => cull(graph, 'e'), { message: 'Key "e" is not in the graph. Closest keys: a, b, c. Request one of the graph\'s keys.' });
    assert.throws(() => cull(graph, 'zzzzzzzz'), { message: 'Key "zzzzzzzz" is not in the graph. Request one of the graph\'s keys.' });
  });
});

describe('order', () => {
  it('orders a chain from its start', () => {
    //  a ─▶ b ─▶ c
    assert.deepEqual(Object.fromEntries(order({ c: [inc, 'b'], b: [inc, 'a'], a: 1 })), { a: 0, b: 1, c: 2 });
  });

  it('finishes one output before starting the next', () => {
    //  a1 ─▶ b1 ─▶ out1      a2 ─▶ b2 ─▶ out2
    const g = { a1: 1, a2: 2, b1: [inc, 'a1'], b2: [inc, 'a2'], out1: [inc, 'b1'], out2: [inc, 'b2'] };
    assert.deepEqual(Object.fromEntries(order(g)), { a1: 0, b1: 1, out1: 2, a2: 3, b2: 4, out2: 5 });
  });

  it('runs the deepest branch first, then the shallow ones', () => {
    //  x ─▶ y ─▶ z ──┐
    //            s ──┼─▶ root
    //            t ──┘
    const g = { s: 1, t: 2, x: 0, y: [inc, 'x'], z: [inc, 'y'], root: [sum, 's', 't', 'z'] };
    assert.deepEqual(Object.fromEntries(order(g)), { x: 0, y: 1, z: 2, s: 3, t: 4, root: 5 });
  });

  it('orders a shared dependency once, as early as its first dependent needs it', () => {
    //      ┌─▶ b ─┐
    //  a ──┤      ├─▶ d
    //      └─▶ c ─┘
    assert.deepEqual(Object.fromEntries(order({ a: 1, b: [inc, 'a'], c: [inc, 'a'], d: [add, 'b', 'c'] })), { a: 0, b: 1, c: 2, d: 3 });
  });

  it('reduces a binary tree pairwise, keeping few results alive', () => {
    //  l0 l1 l2 l3
    //   └┬┘   └┬┘
    //    p0    p1
    //     └─┬──┘
    //      root
    const g = { l0: 0, l1: 1, l2: 2, l3: 3, p0: [add, 'l0', 'l1'], p1: [add, 'l2', 'l3'], root: [add, 'p0', 'p1'] };
    assert.deepEqual(Object.fromEntries(order(g)), { l0: 0, l1: 1, p0: 2, l2: 3, l3: 4, p1: 5, root: 6 });
  });

  it('is deterministic and refuses cycles', () => {
    const g = { a: [inc, 'b'], b: [inc, 'a'] };
    assert.throws(() => order(g), { message: /Cycle detected in the graph: a -> b -> a\./ });
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) big[`x-${i}`] = i % 3 ? [inc, `x-${i - 1}`] : i;
    assert.deepEqual([...order(big)], [...order(big)]);
  });
});

describe('keyGroup', () => {
  it('takes the prefix before the last - or :', () => {
    assert.equal(keyGroup('load-3'), 'load');
    assert.equal(keyGroup('clean-load-a'), 'clean-load');
    assert.equal(keyGroup('stage:clean:7'), 'stage:clean');
    assert.equal(keyGroup('total'), 'total');
    assert.equal(keyGroup('-x'), '-x');
  });
});
