// Dask's core tests, ported (dask/tests/test_tokenize.py, test_delayed.py, test_local.py,
// test_base.py, test_callbacks.py, test_config.py, test_optimization.py,
// dask/diagnostics/tests/test_profiler.py): each test is named after the Dask test it follows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { type Delayed, type DelayedProxy, Profiler, TaskError, compute, config, cull, delayed, get, isDelayed, optimize, order, persist, registerCallback, tokenize } from 'skein';
import { MyException, add, identity, inc, listSum, makeFunction, pack, raiseMine, sum } from '../data/ops.js';
import { Adder } from '../data/methods.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pureKeysScript = fileURLToPath(new URL('../data/scripts/pureKeys.mjs', import.meta.url));

function pureKeys(args: readonly string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, [pureKeysScript, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('tokenize (dask/tests/test_tokenize.py)', () => {
  it('test_tokenize_functions_main: a pure key is the same in two fresh processes, after other tokenizing, and in a worker thread', async () => {
    const first = pureKeys();
    assert.deepEqual(pureKeys(), first);
    assert.deepEqual(pureKeys(['noise']), first, 'what was tokenized before does not count');
    const inThread = await new Promise<unknown>((resolve, reject) => {
      const w = new Worker(pureKeysScript);
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.deepEqual(inThread, first);
    assert.equal(first.set, true);
    assert.match(String(first.inc), /^inc-[0-9a-f]{16}$/);
  });

  it('test_tokenize_set / test_tokenize_dict: members in any order give one token', () => {
    assert.equal(tokenize([new Set([1, 2, 'x', [1, 'x']])]), tokenize([new Set([2, 'x', [1, 'x'], 1])]));
    assert.equal(tokenize([new Map<unknown, unknown>([['x', 1], [1, 'x']])]), tokenize([new Map<unknown, unknown>([[1, 'x'], ['x', 1]])]));
    assert.equal(tokenize([{ x: 1, y: 2 }]), tokenize([{ y: 2, x: 1 }]));
    assert.notEqual(tokenize([new Map([['x', 1]])]), tokenize([new Map([['x', 2]])]));
    assert.notEqual(tokenize([new Set([1])]), tokenize([[1]]));
  });

  it('test_tokenize_local_functions_from_different_contexts / test_tokenize_functions_unique_token', () => {
    const make = () => (x: number) => x + 1;
    assert.equal(tokenize([make()]), tokenize([make()]), 'two closures of one source that capture nothing');
    const adder = (n: number) => (x: number) => x + n;
    const [one, two] = [adder(1), adder(2)];
    assert.notEqual(tokenize([one]), tokenize([two]), 'closures of one source that capture: told apart');
    assert.equal(tokenize([one]), tokenize([one]));
    const distinct = [(x: number) => x, (x: number) => x + 1, (y: number) => y, (y: number) => y + 1, function f(x: number) { return x; }, function g(x: number) { return x; }];
    assert.equal(new Set(distinct.map((f) => tokenize([f]))).size, distinct.length);
  });
});

const SCHEDULERS = ['sync', 'threads', 'processes'] as const;

class Point {
  constructor(readonly x: unknown) {}
}

describe('delayed and compute (dask/tests/test_delayed.py, test_base.py)', () => {
  for (const scheduler of SCHEDULERS) {
    it(`test_literates / test_iterators: Maps, Sets and iterators are looked into (${scheduler})`, async () => {
      const a = delayed(identity<number>)(1);
      const b = delayed(inc)(a);
      assert.deepEqual(await delayed(new Set([a, b, 3])).compute({ scheduler }), new Set([1, 2, 3]));
      const [m, s] = await compute(new Map<string, unknown>([['a', a], ['b', [b, 5]]]), new Set([b]), { scheduler });
      assert.deepEqual(m, new Map<string, unknown>([['a', 1], ['b', [2, 5]]]));
      assert.deepEqual(s, new Set([2]));
      assert.equal(await delayed(sum)(...[a, b].values()).compute({ scheduler }), 3);
      assert.equal(await delayed(listSum)([a, b].values() as unknown as number[]).compute({ scheduler }), 3);
      assert.deepEqual(await delayed(pack)(new Map([['k', b]])).compute({ scheduler }), new Map([['k', 2]]));
      // a Map with no delayed value inside stays the value it is
      const plain = new Map([['k', 1]]);
      assert.equal((await compute(plain, { scheduler }))[0], plain);
    });

    it(`test_delayed_decorator_on_method: a delayed method keeps its receiver (${scheduler})`, async () => {
      const instance = new Adder();
      const task = instance.addmethod(3, 4) as unknown as Delayed<number>;
      assert.ok(isDelayed(task));
      assert.equal(await task.compute({ scheduler }), 107);
      instance.BASE = 10;
      assert.notEqual((instance.addmethod(3, 4) as unknown as Delayed<number>).key, task.key, 'the receiver is part of the key');
    });
  }

  it('test_delayed_with_dataclass: a class instance holding a delayed value is refused, saying what to do', async () => {
    const a = delayed(identity<number>)(1);
    await assert.rejects(compute(new Point(a)), { name: 'TypeError', message: 'compute(): a Point instance holds a delayed value (at .x); Skein looks into arrays, plain objects, Maps and Sets, not class instances. Pass its fields as a plain object, or make the instance in a task: delayed((fields) => new Point(...))(...).' });
    assert.throws(() => delayed(pack)(new Point(a)), { name: 'TypeError', message: /^delayed\(\): a Point instance holds a delayed value \(at \.x\)/ });
  });

  it('test_delayed_errors: a Delayed is immutable', () => {
    const a = delayed(identity<number>)(1) as Delayed<number> & { foo?: number };
    assert.throws(() => {
      a.foo = 1;
    }, TypeError);
    assert.throws(() => {
      (a as { key: string }).key = 'changed';
    }, TypeError);
    // reading it gives a delayed attribute of the result, as Dask's does; nothing was set
    assert.ok(isDelayed(a.foo));
    assert.equal(Object.hasOwn(a, 'foo'), false);
  });
});

/** A seeded random DAG of `n` tasks, each summing up to three earlier ones. */
function randomGraph(seed: number, n: number): Record<string, unknown> {
  let s = seed;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const graph: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const deps = i === 0 ? [] : Array.from({ length: Math.floor(rand() * 4) }, () => `t-${Math.floor(rand() * i)}`);
    graph[`t-${i}`] = [sum, 1, ...new Set(deps)];
  }
  return graph;
}

describe('the synchronous scheduler, callbacks, configuration (test_local.py, test_callbacks.py, test_config.py, test_base.py)', () => {
  it('test_complex_ordering: sync runs every task in exactly the order `order` gives (30 random graphs)', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const graph = randomGraph(seed, 40);
      const ran: string[] = [];
      await get(graph, Object.keys(graph), { scheduler: 'sync', callbacks: [{ pretask: (key) => void ran.push(key) }] });
      const expected = [...order(graph).entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
      assert.deepEqual(ran, expected, `graph ${seed}`);
    }
  });

  it('test_nested_schedulers: a global callback sees the outer graph only, not a get made inside a task', async () => {
    const seen: string[] = [];
    using _ = registerCallback({ pretask: (key) => void seen.push(key) });
    const inner = async (): Promise<number> => (await get({ x: 1, y: [inc, 'x'] }, 'y', { scheduler: 'sync' })) as number;
    assert.equal(await get({ a: [inner], b: [inc, 'a'] }, 'b', { scheduler: 'sync' }), 3);
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('test_get: a section gives an object of its keys; an unknown key names the keys there are; your own keys are taken', () => {
    assert.deepEqual(config.get('batching'), { maxTasks: config.get('batching.maxTasks'), targetMs: config.get('batching.targetMs') });
    assert.throws(() => config.get('nosuchkey'), { code: 'BAD_CONFIG', message: /^Unknown config key "nosuchkey" from config\.get\(\)\. Valid keys: scheduler, numWorkers, / });
    assert.equal(config.get('nosuchkey', 123), 123);
    using _ = config.set({ 'myapp.retries': 3 });
    using __ = config.set({ 'myapp.depth.max': 2 });
    assert.equal(config.get('myapp.retries'), 3);
    assert.deepEqual(config.get('myapp'), { retries: 3, depth: { max: 2 } });
    // a near miss of one of Skein's sections is a typo, not a key of yours
    assert.throws(() => config.set({ 'batchin.maxTasks': 3 } as never), { message: /^Unknown config key "batchin\.maxTasks" from config\.set\(\)\./ });
  });

  it('test_callable_scheduler / test_scheduler_keyword: compute with a get function of your own', async () => {
    const calls: unknown[] = [];
    const myGet = (graph: Record<string, unknown>, keys: unknown): unknown => {
      calls.push(keys);
      return (keys as string[]).map((k) => (typeof graph[k] === 'number' ? graph[k] : 42));
    };
    const a = delayed(inc)(1);
    assert.deepEqual(await compute(a, { scheduler: myGet }), [42]);
    assert.deepEqual(calls, [[a.key]]);
    assert.equal(await a.compute({ scheduler: 'sync' }), 2);
  });

  it('test_profiler / test_two_gets: the Profiler keeps the records of every run until clear()', async () => {
    const profiler = new Profiler();
    const dsk = { a: 1, b: 2, c: [add, 'a', 'b'], d: [add, 'a', 'b'], e: [sum, 'c', 'd'] };
    assert.equal(await get(dsk, 'e', { scheduler: 'sync', callbacks: [profiler] }), 6);
    assert.deepEqual(profiler.results().map((r) => r.key).sort(), ['c', 'd', 'e']);
    await get(dsk, 'c', { scheduler: 'threads', callbacks: [profiler] });
    await get(dsk, 'e', { scheduler: 'sync', callbacks: [profiler] });
    assert.equal(profiler.results().length, 7);
    profiler.clear();
    assert.deepEqual(profiler.results(), []);
  });

  it('test_cull: nested key lists as get takes them', () => {
    const d = { x: 1, y: [inc, 'x'], z: [inc, 'x'], out: [add, 'y', 10] };
    assert.deepEqual([...cull(d, [['out'], ['z']]).keys()], [...cull(d, ['out', 'z']).keys()]);
    assert.deepEqual([...cull(d, 'out').keys()], ['x', 'y', 'out']);
  });
});

/** Quotient and remainder: a call that returns two values. */
const divmod = (a: number, b: number): [number, number] => [Math.floor(a / b), a % b];

describe('persist, nout, traverse (test_base.py, test_delayed.py)', () => {
  for (const scheduler of SCHEDULERS) {
    it(`test_persist_delayed / test_persist_literals: persisted values hold their results, and later graphs start from them (${scheduler})`, async () => {
      const x = delayed(inc)(delayed(inc)(1));
      const [xx, one, two] = await persist(x, 1, 'two', { scheduler });
      assert.equal(xx.key, x.key);
      assert.equal(xx.graph.size, 1);
      assert.deepEqual([one, two], [1, 'two']);
      const ran: string[] = [];
      assert.equal(await delayed(inc)(xx).compute({ scheduler, callbacks: [{ pretask: (key: string) => void ran.push(key) }] }), 4);
      assert.equal(ran.length, 1, 'only the new task ran');
      const [shape] = await persist({ a: x, b: [1, x] }, { scheduler });
      assert.equal(await compute(shape, { scheduler }).then(([v]) => JSON.stringify(v)), JSON.stringify({ a: 3, b: [1, 3] }));
    });

    it(`test_nout: destructuring a call made with nout (${scheduler})`, async () => {
      const [q, r] = delayed(divmod, { nout: 2 })(7, 2);
      assert.deepEqual(await compute(q!, r!, { scheduler }), [3, 1]);
    });
  }

  it('test_nout: nout is checked; a Delayed of no known length is not iterable', () => {
    assert.throws(() => delayed(divmod, { nout: -1 }), { name: 'RangeError', message: 'delayed(): nout must be a whole number >= 0 (how many values the call returns); got -1.' });
    const d = delayed(divmod)(7, 2);
    assert.throws(() => [...(d as unknown as Iterable<unknown>)], { name: 'TypeError', message: `Delayed ${JSON.stringify(d.key)} has no known length, so it cannot be iterated or destructured: make it with delayed(fn, { nout: n }).` });
    assert.deepEqual([...delayed(divmod, { nout: 0 })(1, 1)], []);
  });

  it('test_traverse_false: a value taken as it is, delayed values inside left alone', async () => {
    const a = delayed(identity<number>)(1);
    const [kept] = await compute(delayed([a, 2], { traverse: false }), { scheduler: 'sync' });
    assert.equal((kept as unknown[])[0], a);
    assert.equal(await delayed(delayed(identity<number>)(1), { traverse: false }).compute({ scheduler: 'sync' }), 1);
    // test_compute_nested with traverse=False: the list itself back, the delayed argument computed
    const list = [a, 1];
    const c = delayed(inc)(a);
    const [same, two] = await compute(list, c, { scheduler: 'sync', traverse: false });
    assert.equal(same, list);
    assert.equal(two, 2);
  });
});

describe('values and errors across threads and processes (test_local.py, test_multiprocessing.py)', () => {
  for (const scheduler of SCHEDULERS) {
    it(`test_lambda_results_with_cloudpickle: a task may return a function, by its source or a module's export (${scheduler})`, async () => {
      const [made, exported, builtIn] = (await get({ f: [makeFunction], g: [pack, inc], h: [pack, Math.max], out: [pack, ['f', 'g', 'h']] }, ['f', 'g', 'h'], { scheduler })) as [() => number, (x: number) => number, typeof Math.max];
      assert.equal(made(), 1);
      assert.equal(exported(2), 3);
      assert.equal(builtIn(1, 5), 5);
    });

    it(`test_exceptions_propagate: an error of a class a module exports arrives as an instance of it, fields kept (${scheduler})`, async () => {
      const error = (await get({ x: [raiseMine, 1, 2] }, 'x', { scheduler }).catch((e: unknown) => e)) as TaskError;
      assert.ok(error instanceof TaskError);
      const raised = error.cause as MyException;
      assert.ok(raised instanceof MyException, `${scheduler}: ${String(raised)}`);
      assert.deepEqual([raised.a, raised.b, raised.message, raised.name], [1, 2, 'My Exception!', 'MyException']);
      assert.match(raised.stack ?? '', /raiseMine/);
    });
  }
});

describe('optimize (dask/tests/test_optimization.py, test_delayed.py)', () => {
  it('test_fuse / test_inline: chains fused into one task under the last key, constants inlined, wanted keys kept', () => {
    const d = { one: 1, a: [inc, 'one'], b: [inc, 'a'], c: [inc, 'b'], both: [add, 'c', 'c'] };
    assert.deepEqual(Object.fromEntries(optimize(d, 'c')), { c: [inc, [inc, [inc, 1]]] });
    // a task that reads its input twice does not take it in (it would compute it twice)
    assert.deepEqual(Object.fromEntries(optimize(d, 'both')), { c: [inc, [inc, [inc, 1]]], both: [add, 'c', 'c'] });
    assert.deepEqual(Object.fromEntries(optimize(d, ['b', 'c'])), { b: [inc, [inc, 1]], c: [inc, 'b'] });
    assert.deepEqual(Object.fromEntries(optimize(d, 'c', { fuse: false })), { a: [inc, 1], b: [inc, 'a'], c: [inc, 'b'] });
    assert.deepEqual(Object.fromEntries(optimize(d, 'c', { fuse: false, inlineConstants: false })), { one: 1, a: [inc, 'one'], b: [inc, 'a'], c: [inc, 'b'] });
  });

  for (const scheduler of SCHEDULERS) {
    it(`test_delayed_fusion / test_optimize_graph_false: a chain runs task by task, as one task with optimization.fuse, task by task again with optimizeGraph: false (${scheduler})`, async () => {
      const c = delayed(inc)(delayed(inc)(delayed(inc)(1)));
      const ran: string[] = [];
      const cb = { pretask: (key: string) => void ran.push(key) };
      assert.deepEqual(await compute(c, { scheduler, callbacks: [cb] }), [4]);
      assert.equal(ran.length, 3, 'unfused by default, as Dask fuses delayed graphs only when asked');
      assert.equal(ran.at(-1), c.key);
      ran.length = 0;
      using _ = config.set({ 'optimization.fuse': true });
      assert.deepEqual(await compute(c, { scheduler, callbacks: [cb] }), [4]);
      assert.deepEqual(ran, [c.key]);
      ran.length = 0;
      assert.deepEqual(await compute(c, { scheduler, callbacks: [cb], optimizeGraph: false }), [4]);
      assert.equal(ran.length, 3);
      assert.equal(ran.at(-1), c.key);
    });
  }
});

describe('a Delayed behaves like its value (test_delayed.py test_attributes, test_methods, test_method_getattr_call_same_task)', () => {
  for (const scheduler of SCHEDULERS) {
    it(`attributes, lengths and method calls of a result are delayed, typed (${scheduler})`, async () => {
      const point = delayed(pack)({ x: 3, y: 4, tags: ['a', 'b'] }) as unknown as DelayedProxy<{ x: number; y: number; tags: string[] }>;
      const text = delayed(identity<string>)('to be or not');
      const words = text.slice(3);
      assert.equal(isDelayed(words), true);
      const [x, n, upper, count] = await compute(point.x, point.tags.length, text.toUpperCase(), words.length, { scheduler });
      assert.deepEqual([x, n, upper, count], [3, 2, 'TO BE OR NOT', 9]);
      // the lookup and the call are one task (no getattr task for `slice`)
      assert.deepEqual([...words.graph.keys()].filter((k) => k.startsWith('getattr-')), []);
      assert.equal(await delayed(add)(point.x, point.y).compute({ scheduler }), 7);
      // deterministic keys; its own members are its own
      assert.equal(point.x.key, point.x.key);
      assert.equal(typeof point.compute, 'function');
      assert.equal((point as unknown as { then?: unknown }).then, undefined, 'not thenable: await gives the Delayed itself');
    });
  }
});
