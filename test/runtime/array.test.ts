// skein/array: chunked typed arrays over the same schedulers. Exact results of creation,
// elementwise arithmetic with broadcasting, reductions over all axes and one, mapBlocks, on sync,
// threads and processes; seeded random blocks alike on every scheduler; keys <op>-<token>-<i>-<j>;
// clear errors for shapes and chunks that do not fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as da from 'skein/array';

const list = (c: { data: ArrayLike<number> }) => Array.from(c.data);
const round = (xs: number[], digits = 6) => xs.map((x) => Number(x.toFixed(digits)));

for (const scheduler of ['sync', 'threads', 'processes'] as const) {
  describe(`array: ${scheduler}`, () => {
    const o = { scheduler, numWorkers: 2 };
    // 0 1 2 3 / 4 5 6 7 / 8 9 10 11, in blocks of 2 × 3
    const x = da.fromArray(Float64Array.from({ length: 12 }, (_, i) => i), { shape: [3, 4], chunks: [2, 3] });

    it('assembles the blocks into the array, in row-major order', async () => {
      assert.deepEqual(x.numblocks, [2, 2]);
      assert.deepEqual(x.chunks, [[2, 1], [3, 1]]);
      const c = await x.compute(o);
      assert.deepEqual([list(c), c.shape], [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 4]]);
      assert.deepEqual(list(await da.arange(2, 12, 3, { chunks: 2 }).compute(o)), [2, 5, 8, 11]);
      assert.deepEqual(list(await da.ones([2, 2], { chunks: 1, dtype: 'int32' }).compute(o)), [1, 1, 1, 1]);
      assert.ok((await da.zeros([3], { chunks: 2, dtype: 'float32' }).compute(o)).data instanceof Float32Array);
    });

    it('reduces over all axes and along one: sum, mean, min, max, var, std, argmin, argmax', async () => {
      assert.deepEqual(await Promise.all([x.sum(), x.mean(), x.min(), x.max(), x.argmin(), x.argmax()].map((r) => r.compute(o))), [66, 5.5, 0, 11, 0, 11]);
      assert.equal(await x.var().compute(o), 143 / 12);
      assert.equal(await x.var(undefined, { ddof: 1 }).compute(o), 13);
      assert.equal(round([await x.std().compute(o)])[0], round([Math.sqrt(143 / 12)])[0]);
      assert.deepEqual(list(await x.sum(0).compute(o)), [12, 15, 18, 21]);
      assert.deepEqual(list(await x.sum(1).compute(o)), [6, 22, 38]);
      assert.deepEqual(list(await x.mean(-1).compute(o)), [1.5, 5.5, 9.5]);
      assert.deepEqual(list(await x.max(0).compute(o)), [8, 9, 10, 11]);
      assert.deepEqual(list(await x.neg().argmax(1).compute(o)), [0, 0, 0]);
      assert.deepEqual(list(await x.argmax(0).compute(o)), [2, 2, 2, 2]);
      assert.deepEqual(round(list(await x.var(0).compute(o))), round([32 / 3, 32 / 3, 32 / 3, 32 / 3]));
      // a vector along its one axis: a number
      assert.equal(await da.arange(10, undefined, 1, { chunks: 3 }).sum(0).compute(o), 45);
    });

    it('computes elementwise, with numbers and broadcasting, and maps your function over blocks', async () => {
      const row = da.fromArray([10, 20, 30, 40], { chunks: 3 });
      assert.deepEqual(list(await x.add(row).compute(o)), [10, 21, 32, 43, 14, 25, 36, 47, 18, 29, 40, 51]);
      const column = da.fromArray([1, 2, 3], { shape: [3, 1], chunks: [2, 1] });
      assert.deepEqual(list(await x.mul(column).compute(o)), [0, 1, 2, 3, 8, 10, 12, 14, 24, 27, 30, 33]);
      assert.deepEqual(list(await x.mul(2).add(1).compute(o)), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
      assert.deepEqual(list(await x.rsub(11).compute(o)), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(round(list(await da.sqrt(x).compute(o)), 4), round(Array.from({ length: 12 }, (_, i) => Math.sqrt(i)), 4));
      assert.deepEqual(list(await x.mapBlocks((b) => b.map((v) => v * v)).compute(o)), Array.from({ length: 12 }, (_, i) => i * i));
      assert.deepEqual(list(await x.mapBlocks((b) => Array.from(b, Math.sqrt)).sum(0).compute(o)).length, 4);
    });

    it('transposes, multiplies matrices block by block, slices with steps and rechunks', async () => {
      const t = x.T;
      assert.deepEqual([t.shape, t.chunks], [[4, 3], [[3, 1], [2, 1]]]);
      assert.deepEqual(list(await t.compute(o)), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      assert.deepEqual(list(await x.matmul(t).compute(o)), [14, 38, 62, 38, 126, 214, 62, 214, 366]);
      const rows = da.fromArray(Float64Array.from({ length: 40 }, (_, i) => i % 7), { shape: [4, 10], chunks: [2, 1] });
      const product = await rows.matmul(rows.T).compute(o);
      const plain = (i: number, j: number) => Array.from({ length: 10 }, (_, k) => ((i * 10 + k) % 7) * ((j * 10 + k) % 7)).reduce((a, b) => a + b, 0);
      assert.deepEqual(list(product), Array.from({ length: 16 }, (_, n) => plain(Math.floor(n / 4), n % 4)));
      assert.deepEqual(list(await x.slice([null, null, 2], [1, null, 2]).compute(o)), [1, 3, 9, 11]);
      const row = x.slice(1);
      assert.deepEqual([row.shape, list(await row.compute(o))], [[4], [4, 5, 6, 7]]);
      assert.deepEqual(list(await x.slice(null, [null, null, -1]).compute(o)), [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8]);
      assert.deepEqual(list(await x.slice([-2], [3, 0, -2]).compute(o)), [7, 5, 11, 9]);
      const re = x.rechunk([1, 2]);
      assert.deepEqual(re.chunks, [[1, 1, 1], [2, 2]]);
      assert.deepEqual(list(await re.compute(o)), list(await x.compute(o)));
      assert.deepEqual(list(await x.rechunk(4).sum(1).compute(o)), [6, 22, 38]);
    });

    it('makes the same random blocks for the same seed, whatever runs them', async () => {
      const r = da.random.random([20, 30], { chunks: [7, 11], seed: 42 });
      const here = await r.compute({ scheduler: 'sync' });
      assert.deepEqual(list(await r.compute(o)), list(here));
      assert.ok(list(here).every((v) => v >= 0 && v < 1));
      assert.notDeepEqual(list(await da.random.random([20, 30], { chunks: [7, 11], seed: 43 }).compute(o)), list(here));
    });
  });
}

describe('array', () => {
  it('names block (i, j) of an operation <op>-<token>-<i>-<j>', () => {
    const x = da.ones([4, 4], { chunks: 2 });
    assert.deepEqual(x.add(1).keys.map((k) => k.replace(/[0-9a-f]{16}/, 'T')), ['add-T-0-0', 'add-T-0-1', 'add-T-1-0', 'add-T-1-1']);
    assert.match(x.sum().key, /^sum-[0-9a-f]{16}$/);
    assert.deepEqual(x.sum(0).keys.map((k) => k.replace(/[0-9a-f]{16}/, 'T')), ['sum-T-0', 'sum-T-1']);
    // the same operation twice is the same keys
    assert.deepEqual(x.add(1).keys, x.add(1).keys);
  });

  it("computes each result in the dtype the array says it has, NumPy's way", async () => {
    const f32 = da.ones([4], { chunks: 2, dtype: 'float32' });
    const i32 = da.arange(4, undefined, 1, { chunks: 2 });
    const f64 = da.ones([4], { chunks: 2 });
    const cases: Array<[da.ChunkedArray, string]> = [
      [f32.add(1.5), 'float32'], // a number does not widen an array of its kind
      [f32.rsub(0.5), 'float32'],
      [f32.div(2), 'float32'],
      [f32.add(f64), 'float64'],
      [f32.sqrt(), 'float32'],
      [i32.add(2), 'int32'],
      [i32.add(1.5), 'float64'],
      [i32.div(2), 'float64'],
      [i32.abs(), 'int32'],
      [i32.sqrt(), 'float64'],
      [i32.mul(f32), 'float32'],
    ];
    for (const [array, dtype] of cases) {
      assert.equal(array.dtype, dtype);
      const { data } = await array.compute({ scheduler: 'sync' });
      assert.equal(data.constructor.name, { float32: 'Float32Array', float64: 'Float64Array', int32: 'Int32Array' }[dtype], `${array.name}: ${dtype}`);
    }
  });

  it('says what does not fit: shapes that do not broadcast, blocks that differ, chunks that do not add up, an axis that is not there', () => {
    const a = da.ones([4, 4], { chunks: 2 });
    assert.throws(() => a.add(da.ones([3], { chunks: 3 })), { name: 'RangeError', message: 'add: shapes [4,4] and [3] do not broadcast (axis 1: 4 and 3)' });
    assert.throws(() => a.add(da.ones([4, 4], { chunks: [2, 4] })), { message: 'add: along axis 1 the blocks differ ([2,2] and [4]): give both arrays the same chunks' });
    assert.throws(() => da.ones([5], { chunks: [[2, 2]] }), { message: 'chunks [2,2] along axis 0 do not add up to its length 5' });
    assert.throws(() => a.sum(2), { message: 'sum: axis 2 is not an axis of an array of 2 dimensions' });
    assert.throws(() => da.fromArray([1, 2, 3], { shape: [2, 2], chunks: 1 }), { message: 'fromArray: shape [2,2] holds 4 values, the data 3' });
    assert.throws(() => a.matmul(da.ones([3, 2], { chunks: 3 })), { message: 'matmul: shapes [4,4] and [3,2] do not fit (4 columns, 3 rows)' });
    assert.throws(() => a.matmul(da.ones([4, 2], { chunks: 4 })), { message: 'matmul: the blocks of the columns ([2,2]) and of the rows ([4]) differ: rechunk one of them' });
    assert.throws(() => a.slice(4), { message: 'slice: index 4 is out of bounds for axis 0 of length 4' });
    assert.throws(() => a.slice([0, 4, 0]), { message: 'slice: step 0 along axis 0: give a non-zero integer' });
    assert.throws(() => a.transpose([0, 0]), { message: 'transpose: [0,0] is not an order of the 2 axes' });
  });
});
