// What only the threads and processes schedulers have to get right: functions and data across
// the boundary, workers that die or hang, pools, and leaving nothing behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MILLION_TOTAL, millionGraph } from '../data/million.js';
import { ProcessPool, SkeinError, TaskError, closeDefaultPools, createThreadPool, get, type Callback } from 'skein';
import { Counter, pack, byteSum, bytes, exitProcess, makeHidden, failWhere, hang, inc, lastBigLength, make, makeBig, makeAdder, makeFunction, makeShared, readAll, sum, makeWeak, useValue, writeAt } from '../data/ops.js';

/** Child processes of this test process (worker processes would show up here). */
function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('processWorker'));
  } catch {
    return []; // ps exits 1 when there is no child
  }
}

for (const scheduler of ['threads', 'processes'] as const) {
  describe(`workers: ${scheduler}`, () => {
    const opts = { scheduler, numWorkers: 2 };

    it('runs lambdas that close over nothing workers lack, by their source (heads, arguments, method shorthand, inner functions)', async () => {
      const parts = { split(line: string) { return line.split(' '); } };
      const graph = {
        line: [(a: string, b: string) => `${a} ${b}`, 'to be', 'or not'],
        words: [parts.split, 'line'],
        roots: [(xs: number[], f: (x: number) => number) => xs.map(f), [1, 4, 9], Math.sqrt],
        shout: [(ws: string[]) => ws.map(function up(w) { return w.toUpperCase(); }).join('-'), 'words'],
        lengths: [(ws: string[], f: (w: string) => number) => ws.map(f), 'words', (w: string) => w.length],
      };
      assert.deepEqual(await get(graph, ['words', 'roots', 'shout', 'lengths'], opts), [['to', 'be', 'or', 'not'], [1, 2, 3], 'TO-BE-OR-NOT', [2, 2, 2, 3]]);
    });

    it('refuses a lambda that closes over a local variable before any task starts, naming the key, the variables and the fix', async () => {
      const started: string[] = [];
      const spy: Callback = { pretask: (key) => void started.push(key) };
      const factor = 2;
      const offset = 1;
      const graph = { a: [inc, 1], b: [(x: number) => x * factor + offset, 'a'] };
      const source = String(graph.b[0]); // as the transpiler printed it
      await assert.rejects(get(graph, 'b', { ...opts, callbacks: [spy] }), {
        name: 'SkeinError',
        message: `Task "b" uses ${source}, which closes over \`factor\`, \`offset\`: ${scheduler} workers get a function no module exports as its source alone, without those variables. Pass them as arguments of the task, export the function from a module (export function ...), or run with --scheduler sync.`,
      });
      // an import is a variable of its module too
      await assert.rejects(get({ c: [(x: number) => inc(x), 1] }, 'c', opts), { message: /^Task "c" uses .*, which closes over `(inc|import_ops\.inc|\w+)`: / });
      assert.deepEqual(started, []);
      await assert.rejects(get({ c: [inc.bind(null), 1] }, 'c', opts), { message: /^Task "c" uses bound inc \(a bound function\), which / });
    });

    it('refuses a class instance argument that contains itself, naming the task and the cycle, before any task starts', async () => {
      // its fields go to the worker with its class (a copy loses its prototype), so they are walked
      const node = new Counter(1) as Counter & { parent?: unknown };
      node.parent = { children: [node] };
      const started: string[] = [];
      await assert.rejects(get({ a: [inc, 1], x: [pack, 'a', node] }, 'x', { ...opts, callbacks: [{ pretask: (key) => void started.push(key) }] }), {
        name: 'SkeinError',
        message: 'Task "x" has an argument that contains itself (task[2].parent.children[0] → task[2]). Skein walks a task\'s arguments for the keys they name, so they must not loop back. Make the object the result of a task instead (results are passed as they are, cycles included), or break the cycle.',
      });
      assert.deepEqual(started, []);
    });

    it('fails a result that cannot be sent, naming the key: a function that closes over a variable, one inside a result', async () => {
      await assert.rejects(get({ f: [makeAdder, 1] }, 'f', opts), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.key, 'f');
        assert.equal((e.cause as Error).message, 'The result of task "f" is a function that closes over `n`, so it cannot be sent back from a worker (functions travel as a module\'s export or by their source). Return one a module exports, one that closes over nothing, or data; or run with --scheduler sync.');
        return true;
      });
      await assert.rejects(get({ f: [pack, { inner: makeFunction }] }, 'f', opts), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal((e.cause as Error).message, 'the result.inner of task "f" is a function, which cannot be sent between threads or processes. Return plain data (objects, arrays, typed arrays, Maps, Sets), or run with --scheduler sync.');
        return true;
      });
    });

    it('stops a hung task after taskTimeoutMs, names it, and the pool still works', async () => {
      await assert.rejects(get({ h: [hang], ok: [inc, 1], both: [sum, 'h', 'ok'] }, 'both', { ...opts, taskTimeoutMs: 300 }), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.key, 'h');
        assert.equal((e.cause as Error).message, 'Task "h" ran longer than taskTimeoutMs (300 ms); its worker was stopped and replaced.');
        return true;
      });
      assert.equal(await get({ x: [inc, 41] }, 'x', opts), 42);
    });

    it('counts taskTimeoutMs from when a task starts, not from when it waits for its worker', async () => {
      // each fresh worker spends 400 ms importing the task's module before the task can start
      await closeDefaultPools();
      const { quick } = (await import(new URL('../data/slowImport.mjs', import.meta.url).href)) as { quick: (x: number) => number };
      assert.deepEqual(await get({ a: [quick, 1], b: [quick, 2] }, ['a', 'b'], { ...opts, taskTimeoutMs: 300 }), [2, 3]);
    });

    it('refuses an instance of a class no module exports, naming the task, the class and the fix', async () => {
      const error = await get({ h: [makeHidden] }, 'h', opts).catch((e: unknown) => e);
      assert.ok(error instanceof TaskError);
      assert.equal(error.key, 'h');
      assert.equal(
        (error.cause as Error).message,
        'task "h" passes an instance of class Hidden between workers, and no module exports the class, so its methods would be lost on the way (a copy keeps only the fields). Export the class from a module (export class Hidden …), pass plain data, or run with --scheduler sync.',
      );
    });

    it('re-runs a failed task in the calling thread with rerunExceptionsLocally', async () => {
      const remote = await get({ x: [failWhere] }, 'x', opts).catch((e: unknown) => e);
      assert.equal((remote as TaskError).message, 'Task "x" failed: failed in a worker\n  finished before the failure: none');
      const local = await get({ x: [failWhere] }, 'x', { ...opts, rerunExceptionsLocally: true }).catch((e: unknown) => e);
      assert.equal((local as TaskError).message, 'Task "x" failed: failed in the calling thread\n  finished before the failure: none');
    });

    it('fails the task of a worker that exits, naming the key, and keeps working', async () => {
      await assert.rejects(get({ a: [inc, 1], boom: [exitProcess, 3], c: [sum, 'a', 'boom'] }, 'c', opts), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.key, 'boom');
        assert.match((e.cause as Error).message, /^The worker running task "boom" died \((exit code 3|worker exited with code: 3)\); it was replaced\./);
        return true;
      });
      assert.equal(await get({ x: [inc, 1] }, 'x', opts), 2);
    });

    it('fails a result holding a WeakMap, naming its task, not its batch', async () => {
      const e = await get({ ok: [inc, 1], weak: [makeWeak], both: [sum, 'ok', 'weak'] }, 'both', opts).catch((x: unknown) => x);
      assert.ok(e instanceof TaskError);
      assert.equal(e.key, 'weak');
      assert.match((e.cause as Error).message, /^the result\.map of task "weak" is a WeakMap, which cannot be sent between threads or processes\./);
    });

    it('refuses inputs that cannot be cloned, naming the task, and does not hang', async () => {
      const graph = { lit: { s: Symbol('not cloneable') }, b: [inc, 'lit'], c: [inc, 1], d: [sum, 'b', 'c'] };
      await assert.rejects(get(graph, 'd', { ...opts, numWorkers: 1 }), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.key, 'b');
        assert.match((e.cause as Error).message, new RegExp(`^inputs of task "b" cannot be sent to a worker ${scheduler === 'threads' ? 'thread' : 'process'}: `));
        return true;
      });
      assert.equal(await get({ x: [inc, 1] }, 'x', opts), 2);
    });

    it('gives posttask every result of a chain, and re-runs a failed link with its real input', async () => {
      //  a ─▶ b ─▶ c    (a chain: one worker runs it in one go)
      const seen: string[] = [];
      const cb: Callback = { posttask: (key, result) => void seen.push(`${key}=${String(result)}`) };
      assert.equal(await get({ a: [inc, 0], b: [inc, 'a'], c: [inc, 'b'] }, 'c', { ...opts, callbacks: [cb] }), 3);
      assert.deepEqual(seen, ['a=1', 'b=2', 'c=3']);
      const e = await get({ a: [make, 1], b: [useValue, 'a'] }, 'b', { ...opts, rerunExceptionsLocally: true }).catch((x: unknown) => x);
      assert.equal((e as TaskError).message, 'Task "b" failed: real failure: v is 1\n  finished before the failure: a');
    });

    it('passes typed arrays in and out', async () => {
      assert.equal(await get({ b: [bytes, 1000], s: [byteSum, 'b'] }, 's', opts), 7000);
    });

    it('keeps the default pool warm after success and failure, and closeDefaultPools leaves no worker behind', async () => {
      await get({ x: [inc, 1] }, 'x', opts);
      const before = children();
      await get({ x: [exitProcess, 0], y: [inc, 'x'] }, 'y', opts).catch(() => undefined);
      assert.equal(await get({ x: [inc, 41] }, 'x', opts), 42, 'the pool still serves after a worker exited');
      if (scheduler === 'processes') {
        assert.equal(before.length, 2, 'one warm pool of two worker processes');
        assert.equal(children().length, 2, 'the worker that exited was replaced, nothing more');
      }
      await closeDefaultPools();
      assert.deepEqual(children(), []);
    });
  });
}

describe('workers: threads only', () => {
  it('shares one SharedArrayBuffer between tasks on different threads', async () => {
    //  buf ─┬─▶ w1 ─┐
    //       ├─▶ w2 ─┼─▶ all
    //       └───────┘
    const graph = { buf: [makeShared, 8], w1: [writeAt, 'buf', 0, 11], w2: [writeAt, 'buf', 1, 22], all: [readAll, 'buf', 'w1', 'w2'] };
    const [buffer, all] = (await get(graph, ['buf', 'all'], { scheduler: 'threads', numWorkers: 2 })) as [SharedArrayBuffer, number[]];
    assert.deepEqual(all, [11, 22]);
    assert.ok(buffer instanceof SharedArrayBuffer);
    assert.deepEqual(Array.from(new Int32Array(buffer)), [11, 22], 'the writes from worker threads are visible in the main thread');
  });

  it('transfers a large result buffer instead of copying it', async () => {
    const pool = createThreadPool(1);
    try {
      const big = (await get({ big: [makeBig] }, 'big', { scheduler: 'threads', pool })) as Uint8Array;
      assert.equal(big.byteLength, 1 << 20);
      assert.equal(big[12345], 1);
      // the worker kept a reference to what it returned: after a transfer it is detached
      assert.equal(await get({ n: [lastBigLength] }, 'n', { scheduler: 'threads', pool }), 0);
    } finally {
      await pool.destroy();
    }
  });

  it('uses a pool the user created, and does not close it', async () => {
    const pool = createThreadPool(2);
    try {
      assert.equal(await get({ x: [inc, 1], y: [inc, 'x'] }, 'y', { scheduler: 'threads', pool }), 3);
      assert.equal(await get({ x: [inc, 5] }, 'x', { scheduler: 'threads', pool }), 6);
      assert.equal(pool.threads.length, 2);
    } finally {
      await pool.destroy();
    }
  });

  it('runs 1,000,000 trivial tasks', async () => {
    assert.equal(await get(millionGraph(), 'total', { scheduler: 'threads', numWorkers: 2 }), MILLION_TOTAL);
  });
});

describe('workers: processes only', () => {
  it('closes a ProcessPool at the end of an `await using` scope', async () => {
    let pids: number[] = [];
    {
      await using pool = new ProcessPool({ numWorkers: 2 });
      assert.equal(await get({ x: [inc, 1] }, 'x', { scheduler: 'processes', pool }), 2);
      pids = pool.pids;
      assert.equal(pids.length, 2);
    }
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
  });

  it('fails the task of a worker that exits, names the key and the exit code, and replaces the worker', async () => {
    const pool = new ProcessPool({ numWorkers: 2 });
    try {
      await assert.rejects(get({ a: [inc, 1], boom: [exitProcess, 3], c: [sum, 'a', 'boom'] }, 'c', { scheduler: 'processes', pool }), (e: unknown) => {
        assert.ok(e instanceof TaskError);
        assert.equal(e.key, 'boom');
        assert.ok(e.cause instanceof SkeinError);
        assert.equal(
          (e.cause as Error).message,
          'The worker running task "boom" died (exit code 3); it was replaced. Look for process.exit(), a crash in a native module, or running out of memory in this task.',
        );
        return true;
      });
      assert.equal(await get({ x: [inc, 1] }, 'x', { scheduler: 'processes', pool }), 2);
    } finally {
      await pool.close();
    }
    assert.deepEqual(children(), []);
  });
});
