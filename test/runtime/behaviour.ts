// One behaviour suite, run against every scheduler (Dask's GetFunctionTestMixin). A scheduler's
// test file is one line: `behaviourSuite('threads')`. Everything here must hold for all of them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Profiler, SkeinError, TaskError, compute, delayed, get, type Callback, type ComputeOptions } from 'skein';
import { Counter, add, arraySum, bigArray, bump, concat, describeBuffers, describeCounter, makeCounter, makeCycle, double, fail, failWithCode, identity, inc, listSum, makeBuffer, pack, sleep, spinArray, spinIdentity, spinSum, sum, throwValue, wrapBuffer } from '../data/ops.js';

export function behaviourSuite(scheduler: 'sync' | 'threads' | 'processes' | 'distributed', extra: ComputeOptions = {}, name: string = scheduler): void {
  // every run of the suite checks the scheduler state's invariants after each step
  const opts: ComputeOptions = { scheduler, numWorkers: 2, validate: true, ...extra };

  describe(`behaviour: ${name}`, () => {
    it('computes one key, an array of keys, and nested arrays of keys', async () => {
      //  x ─▶ y ─▶ z
      const graph = { x: 1, y: [inc, 'x'], z: [add, 'y', 10] };
      assert.equal(await get(graph, 'z', opts), 12);
      assert.deepEqual(await get(graph, ['z', 'y'], opts), [12, 2]);
      assert.deepEqual(await get(graph, [['z'], ['x', 'y']], opts), [[12], [1, 2]]);
    });

    it('resolves dependencies nested in arrays and plain objects, and keeps other strings literal', async () => {
      const graph = { x: 1, y: [inc, 'x'], out: [pack, { a: ['x', 1], b: { c: 'y', d: 'hello' } }], s: [concat, 'x', '-', 'hello', '-', 'y'] };
      assert.deepEqual(await get(graph, ['out', 's'], opts), [{ a: [1, 1], b: { c: 2, d: 'hello' } }, '1-hello-2']);
    });

    it('follows aliases and lists of keys', async () => {
      const graph = { x: 1, y: 'x', z: [inc, 'y'], both: ['y', 'z', 7] };
      assert.deepEqual(await get(graph, ['y', 'both'], opts), [1, [1, 2, 7]]);
    });

    it("walks values that are not tasks by Dask's rules, at the top level too", async () => {
      // a list without a function head, or a plain object, is walked as task arguments are
      assert.deepEqual(await get({ a: [1, [inc, 1]] }, 'a', opts), [1, 2]);
      assert.deepEqual(await get({ a: 1, b: 2, e: ['a', 'b', 'zzz'] }, 'e', opts), [1, 2, 'zzz']);
      assert.deepEqual(await get({ c: [1, 2], d: [[listSum, 'c']] }, 'd', opts), [3]);
      assert.deepEqual(await get({ c: [1, 2], o: { n: [listSum, 'c'], k: 'c', s: 'zzz' } }, 'o', opts), { n: 3, k: [1, 2], s: 'zzz' });
      assert.deepEqual(await get({ x: 1, y: [[inc, 'x'], [[inc, [inc, 'x']]]] }, 'y', opts), [2, [3]]);
    });

    it('keeps a Buffer a Buffer, as a result and as an input, also inside objects', async () => {
      const graph = { b: [makeBuffer, 'hello'], o: [wrapBuffer, 'b'], d: [describeBuffers, 'b', 'o'] };
      const [b, o, d] = (await get(graph, ['b', 'o', 'd'], opts)) as [Buffer, { inner: Buffer[] }, string];
      assert.ok(Buffer.isBuffer(b));
      assert.equal(b.toString('utf8'), 'hello');
      assert.ok(Buffer.isBuffer(o.inner[0]));
      assert.equal(d, 'true hello true');
    });

    it('refuses an argument that contains itself, naming the task and the cycle; a cyclic result passes', async () => {
      const loop: Record<string, unknown> = { a: 1 };
      loop.self = loop;
      await assert.rejects(get({ x: [pack, [1, loop]] }, 'x', opts), {
        name: 'SkeinError',
        message: 'Task "x" has an argument that contains itself (task[1][1].self → task[1][1]). Skein walks a task\'s arguments for the keys they name, so they must not loop back. Make the object the result of a task instead (results are passed as they are, cycles included), or break the cycle.',
      });
      assert.throws(() => delayed(pack)(loop), { message: /^Task "pack-[0-9a-f]+" has an argument that contains itself \(args\[0\]\.self → args\[0\]\)\. / });
      await assert.rejects(compute({ loop }, opts), { message: /^compute\(\) has an argument that contains itself \(argument\.loop\.self → argument\.loop\)\. / });
      const made = (await get({ c: [makeCycle] }, 'c', opts)) as { self: unknown; n: number };
      assert.equal(made.self, made);
      assert.equal(made.n, 7);
    });

    it('keeps large typed arrays whole between tasks, also a result the next task of its chain reads', async () => {
      //  a ─▶ b (reads a in the same worker; a is asked for too)    p, q ─▶ c (reads both)
      const graph = { a: [spinArray, 3, 100_000], b: [spinSum, 3, 'a'], p: [spinArray, 3, 200_000], q: [bigArray, 300_000], c: [arraySum, 'p', 'q'] };
      const [a, b, c] = (await get(graph, ['a', 'b', 'c'], opts)) as [Float64Array, number, number];
      assert.deepEqual([a.length, a[0], a[99_999], b, c], [100_000, 1, 1, 100_000, 500_000]);
    });

    it('leaves an input whole for the other tasks of a batch when one task returns it', async () => {
      // one worker, so r1 and r2 go in one batch and read one copy of d; r1 returns d itself
      const graph = { d: [spinArray, 1, 100_000], r1: [spinIdentity, 1, 'd'], r2: [spinSum, 1, 'd'], r3: [spinSum, 1, 'd'] };
      const [r1, r2, r3] = (await get(graph, ['r1', 'r2', 'r3'], { ...opts, numWorkers: 1 })) as [Float64Array, number, number];
      assert.deepEqual([r1.length, r1[99_999], r2, r3], [100_000, 1, 100_000, 100_000]);
    });

    it('keeps class instances whole: their methods survive as results, inputs and literal arguments', async () => {
      const graph = { c: [makeCounter, 1], d: [bump, 'c'], e: [describeCounter, 'd'], f: [describeCounter, new Counter(5)], g: [pack, { inner: [new Counter(7)] }] };
      const [c, d, e, f, g] = (await get(graph, ['c', 'd', 'e', 'f', 'g'], opts)) as [Counter, Counter, string, string, { inner: Counter[] }];
      assert.ok(c instanceof Counter);
      assert.equal(c.inc().n, 2);
      assert.ok(d instanceof Counter);
      assert.equal(d.n, 2);
      assert.equal(e, 'function true 2');
      assert.equal(f, 'function true 5');
      assert.ok(g.inner[0] instanceof Counter);
    });

    it('carries a thrown value that is not an Error as it was thrown', async () => {
      for (const [thrown, shown] of [['boom', '"boom"'], [{ code: 7 }, '{"code":7}'], [undefined, 'undefined']] as const) {
        const error = await get({ t: [throwValue, thrown] }, 't', opts).catch((e: unknown) => e);
        assert.ok(error instanceof TaskError);
        assert.deepEqual(error.cause, thrown);
        assert.equal(error.message, `Task "t" failed: non-Error value thrown: ${shown}\n  finished before the failure: none`);
      }
    });

    it('runs a diamond and a wide reduction', async () => {
      //      ┌─▶ b ─┐
      //  a ──┤      ├─▶ d
      //      └─▶ c ─┘
      const diamond = { a: 1, b: [inc, 'a'], c: [add, 'a', 10], d: [add, 'b', 'c'] };
      assert.equal(await get(diamond, 'd', opts), 13);
      const wide: Record<string, unknown> = {};
      for (let i = 0; i < 500; i++) wide[`leaf-${i}`] = [inc, i];
      wide.total = [sum, ...Object.keys(wide)];
      assert.equal(await get(wide, 'total', opts), (500 * 499) / 2 + 500);
    });

    it('runs only what the requested keys need', async () => {
      const graph = { ok: [inc, 1], broken: [fail, 'must not run'] };
      assert.equal(await get(graph, 'ok', opts), 2);
    });

    it('awaits async task functions', async () => {
      const graph = { x: 4, y: [double, 'x'], z: [double, 'y'] };
      assert.equal(await get(graph, 'z', opts), 16);
    });

    it('computes several delayed values in one graph', async () => {
      const a = delayed(inc)(1);
      const b = delayed(add)(a, 10);
      const c = delayed(sum)(a, b, 100);
      assert.deepEqual(await compute(a, b, c, opts), [2, 12, 114]);
      assert.deepEqual(await compute({ both: [a, b] }, 'plain', opts), [{ both: [2, 12] }, 'plain']);
      assert.equal(await c.compute(opts), 114);
    });

    it('rejects with the failing key, the cause and the keys already finished', async () => {
      //  a ─▶ b (throws) ─▶ c
      const graph = { a: [inc, 1], b: [fail, 'boom'], c: [add, 'a', 'b'] };
      const error = await get(graph, 'c', opts).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TaskError);
      assert.equal(error.key, 'b');
      assert.ok(error.message.startsWith('Task "b" failed: boom\n  finished before the failure: '), error.message);
      assert.ok(error.cause instanceof Error);
      assert.equal((error.cause as Error).message, 'boom');
      assert.match(String((error.cause as Error).stack), /ops\.ts:\d+/);
      assert.ok(!error.finishedKeys.includes('c'));
    });

    it('keeps the error type and extra fields of the original error', async () => {
      const error = await get({ x: [failWithCode, 'E42'] }, 'x', opts).catch((e: unknown) => e);
      assert.ok(error instanceof TaskError);
      assert.equal(error.message, 'Task "x" failed: bad input E42\n  finished before the failure: none');
      assert.equal((error.cause as Error).name, 'RangeError');
      assert.equal((error.cause as { code?: string }).code, 'E42');
    });

    it('refuses a cycle before anything runs, naming it', async () => {
      const graph = { a: [inc, 'c'], b: [inc, 'a'], c: [inc, 'b'], d: [fail, 'must not run'] };
      await assert.rejects(get(graph, ['c', 'd'], opts), {
        message: 'Cycle detected in the graph: a -> c -> b -> a. A task cannot depend on itself, directly or through others; remove one of these dependencies.',
      });
    });

    it('refuses a missing key with the closest existing keys', async () => {
      const graph = { 'clean-a': [identity, 1], 'clean-b': [identity, 2], load: 3 };
      await assert.rejects(get(graph, 'clean-c', opts), (e: unknown) => {
        assert.ok(e instanceof SkeinError);
        assert.equal(e.message, 'Key "clean-c" is not in the graph. Closest keys: clean-a, clean-b. Request one of the graph\'s keys.');
        return true;
      });
    });

    it('refuses a task whose head is not a function, naming the key', async () => {
      await assert.rejects(get({ x: 1, y: [undefined, 'x'] }, 'y', opts), {
        message: 'Task "y" has undefined at its head; a task is [fn, ...args] with a function first. Check that the function is defined and exported where you import it.',
      });
    });

    it('cancels when the signal aborts', async () => {
      const controller = new AbortController();
      const graph: Record<string, unknown> = {};
      // long enough that no scheduler finishes first, even with all twenty waiting at once
      for (let i = 0; i < 20; i++) graph[`s-${i}`] = [sleep, 200];
      graph.all = [sum, ...Object.keys(graph)];
      setTimeout(() => controller.abort(new Error('user pressed stop')), 30);
      await assert.rejects(get(graph, 'all', { ...opts, signal: controller.signal }), (e: unknown) => {
        assert.ok(e instanceof SkeinError);
        assert.equal(e.code, 'CANCELLED');
        assert.match(e.message, /^Computation cancelled: user pressed stop; finished before cancelling: /);
        return true;
      });
    });

    it('fires callbacks in exact order on a chain', async () => {
      //  a ─▶ b ─▶ c
      const events: string[] = [];
      const cb: Callback = {
        start: () => void events.push('start'),
        startState: () => void events.push('startState'),
        pretask: (key) => void events.push(`pretask ${key}`),
        posttask: (key, result) => void events.push(`posttask ${key}=${String(result)}`),
        finish: (_d, _s, failed) => void events.push(`finish ${failed}`),
      };
      assert.equal(await get({ a: [inc, 0], b: [inc, 'a'], c: [inc, 'b'] }, 'c', { ...opts, callbacks: [cb] }), 3);
      assert.deepEqual(events, ['start', 'startState', 'pretask a', 'posttask a=1', 'pretask b', 'posttask b=2', 'pretask c', 'posttask c=3', 'finish false']);
    });

    it('measures phases whose timestamps are monotone for every task, on one clock', async () => {
      const profiler = new Profiler();
      const graph: Record<string, unknown> = { x: 1 };
      for (let i = 0; i < 50; i++) graph[`y-${i}`] = [add, 'x', i];
      graph.total = [sum, ...Object.keys(graph).filter((k) => k !== 'x')];
      const before = performance.timeOrigin + performance.now();
      assert.equal(await get(graph, 'total', { ...opts, callbacks: [profiler] }), 50 + (49 * 50) / 2);
      const after = performance.timeOrigin + performance.now();
      const records = profiler.results();
      assert.equal(records.length, 51);
      for (const r of records) {
        const stamps = [before, r.ready, r.dispatched, r.started, r.finished, r.received, after];
        for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i - 1]! <= stamps[i]!, `${r.key}: stamp ${i} goes back in time: ${stamps.join(', ')}`);
        assert.equal(r.run, r.finished - r.started);
        // a lane per thread: the calling thread, a worker thread or process, or a distributed worker's thread
        const lane = { sync: /^main$/, threads: /^thread-/, processes: /^process-/, distributed: /^worker-\d+\/thread-\d+$/ }[scheduler];
        assert.ok(r.worker !== null && lane.test(r.worker), String(r.worker));
      }
    });

    it('refuses an already aborted signal without running anything', async () => {
      await assert.rejects(get({ x: [fail, 'must not run'] }, 'x', { ...opts, signal: AbortSignal.abort(new Error('too late')) }), {
        message: 'Computation cancelled: too late; finished before cancelling: none',
      });
    });
  });
}
