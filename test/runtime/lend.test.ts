// Under threads, an input on its last use is lent: its large buffers move to the worker thread
// that reads it, not copied (batchExecutor.ts, movable.ts). These tests run the threads executor
// on a real piscina pool and watch the dispatcher: which inputs each batch lends, and that the
// scheduler's copy is left detached (its memory moved) where it lent one. What is still read
// elsewhere (a result asked for, a value a callback saw, an alias, data given in the graph) is
// never lent, and a chain handed back unstarted gives its lent inputs back.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Piscina } from 'piscina';
import { createThreadPool } from 'skein';
import { getAsync } from '../../runtime/core/local.js';
import type { Callback } from '../../runtime/core/callbacks.js';
import { type Dispatcher, batchExecutor } from '../../runtime/schedulers/batchExecutor.js';
import { runOn } from '../../runtime/schedulers/threadPool.js';
import type { WireBatch } from '../../runtime/workers/protocol.js';
import { arraySum, bigArray, countArrays, identity, spinSum } from '../data/ops.js';

// the executor under test is the source's; the pool and its threads are the build's (the worker
// marks results to move for the piscina bundled with it)
const pools: Piscina[] = [];
after(async () => {
  for (const pool of pools) await pool.destroy();
});

interface Lend {
  /** The task the batch ran. */
  readonly task: string;
  /** The inputs it lent. */
  readonly lent: string[];
  /** Byte lengths of those inputs' buffers in the scheduler once the batch is done (0: moved). */
  readonly left: number[];
}

async function run(graph: Record<string, unknown>, keys: string | string[], options: { workers?: number; rerunLocally?: boolean; callbacks?: Callback[] } = {}): Promise<{ value: unknown; lends: Lend[]; lentTo: Map<string, number>; handedBack: string[] }> {
  const pool = createThreadPool(options.workers ?? 2) as unknown as Piscina;
  pools.push(pool);
  const lends: Lend[] = [];
  const handedBack: string[] = [];
  const dispatcher: Dispatcher = {
    numWorkers: options.workers ?? 2,
    moves: true,
    async dispatch(batch: WireBatch, signal, onPartial, transfer) {
      const result = await runOn(pool, batch, signal, onPartial, transfer);
      for (const c of result.skipped ?? []) handedBack.push(batch.chains[c]![0]!.key);
      for (const chain of batch.chains) {
        for (const link of chain) {
          if (link.lent === undefined) continue;
          const lent = link.lent.map((at) => link.inputs[at]![0]);
          const left = link.lent.map((at) => (link.inputs[at]![1] as Float64Array).buffer.byteLength);
          lends.push({ task: link.key, lent, left });
        }
      }
      return result;
    },
  };
  const executor = batchExecutor('threads', dispatcher, { maxTasks: 512, targetMs: 5, taskTimeoutMs: null, asyncTasksPerWorker: 1, rerunLocally: options.rerunLocally ?? false });
  const value = await getAsync(graph, keys, { executor, callbacks: options.callbacks, validate: true });
  const lentTo = new Map<string, number>();
  for (const l of lends) for (const key of l.lent) lentTo.set(key, (lentTo.get(key) ?? 0) + 1);
  return { value, lends, lentTo, handedBack };
}

const N = 100_000; // 800 KB per array: large enough to move

describe('threads: inputs lent on their last use', () => {
  it('moves the inputs a task reads last, and leaves nothing behind in the scheduler', async () => {
    //  p ─┐
    //     ├─▶ c
    //  q ─┘
    const { value, lends } = await run({ p: [bigArray, N], q: [bigArray, 2 * N], c: [arraySum, 'p', 'q'] }, 'c');
    assert.equal(value, 3 * N);
    assert.deepEqual(lends, [{ task: 'c', lent: ['p', 'q'], left: [0, 0] }]);
  });

  it('copies inputs two tasks read at once, and lends one to the task that reads it after them', async () => {
    //  p ─┬─▶ c1 ─┐
    //  q ─┴─▶ c2 ─┴─▶ d (reads p too, once c1 and c2 are done)
    const graph = { p: [bigArray, N], q: [bigArray, N], c1: [arraySum, 'p', 'q'], c2: [countArrays, 'p', 'q'], d: [countArrays, 'p', 'c1', 'c2'] };
    const { value, lends } = await run(graph, ['c1', 'd']);
    assert.deepEqual(value, [2 * N, '1 arrays of 100000']);
    assert.deepEqual(lends, [{ task: 'd', lent: ['p'], left: [0] }]);
  });

  it('never lends a result asked for, an alias target, data given in the graph, or small arrays', async () => {
    const given = new Float64Array(N).fill(2);
    const graph = {
      asked: [bigArray, N],
      target: [bigArray, N],
      alias: 'target',
      small: [bigArray, 100],
      sum: [arraySum, 'asked', 'target', 'given', 'small'],
      aliasSum: [arraySum, 'alias'],
      given,
    };
    const { value, lends } = await run(graph, ['asked', 'sum', 'aliasSum']);
    const [asked, sum, aliasSum] = value as [Float64Array, number, number];
    assert.equal(sum, N + N + 2 * N + 100);
    assert.equal(aliasSum, N);
    assert.equal(asked.length, N);
    assert.equal(asked[N - 1], 1);
    assert.equal(given.length, N);
    assert.equal(given[0], 2);
    assert.deepEqual(lends, []);
  });

  it('lends nothing when a posttask callback sees results or failed tasks re-run here', async () => {
    const graph = { p: [bigArray, N], q: [bigArray, N], c: [arraySum, 'p', 'q'] };
    const seen: number[] = [];
    const posttask: Callback = { posttask: (_key, result) => void seen.push(result instanceof Float64Array ? result.length : Number(result)) };
    const watched = await run(graph, 'c', { callbacks: [posttask] });
    assert.equal(watched.value, 2 * N);
    assert.deepEqual(watched.lends, []);
    assert.deepEqual(seen.sort((a, b) => a - b), [N, N, 2 * N]);
    const rerun = await run(graph, 'c', { rerunLocally: true });
    assert.equal(rerun.value, 2 * N);
    assert.deepEqual(rerun.lends, []);
  });

  it('keeps a result asked for whole when the next task of its chain returns the same array', async () => {
    // a ─▶ b (returns a itself) ─▶ c: a and b arrive sharing one buffer; lending b would empty a
    const { value, lentTo } = await run({ a: [bigArray, N], b: [identity, 'a'], q: [bigArray, N], c: [arraySum, 'b', 'q'] }, ['a', 'c']);
    const [a, c] = value as [Float64Array, number];
    assert.equal(c, 2 * N);
    assert.equal(a.length, N);
    assert.equal(a[N - 1], 1);
    assert.equal(lentTo.get('a'), undefined);
  });

  it('gives the inputs of chains handed back unstarted back whole, and copies them from then on', async () => {
    // four consumers become ready together (when `seen` finishes) and go to the one thread as one
    // batch; the first spins past the batch's budget, so the other three come back unstarted
    const graph: Record<string, unknown> = { seen: [countArrays, 'p0', 'p1', 'p2', 'p3'] };
    for (let i = 0; i < 4; i++) {
      graph[`p${i}`] = [bigArray, N];
      graph[`c${i}`] = [spinSum, 30, `p${i}`, 'seen'];
    }
    const { value, lends, handedBack } = await run(graph, ['c0', 'c1', 'c2', 'c3'], { workers: 1 });
    assert.deepEqual(value, [N, N, N, N]);
    assert.equal(handedBack.length, 3);
    // all four lent with the first batch; the three handed back are sent again with copies
    assert.deepEqual(lends.map((l) => `${l.task}:${l.lent.join()}:${l.left.join()}`).sort(), ['c0:p0:0', 'c1:p1:0', 'c2:p2:0', 'c3:p3:0']);
  });
});
