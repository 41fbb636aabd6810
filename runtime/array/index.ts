/**
 * `skein/array`: Dask's array for TypeScript: an n-dimensional array of `Float64Array`,
 * `Float32Array` or `Int32Array` blocks computed by a graph. Methods build more graph and
 * `compute()` runs it on any scheduler (threads by default), assembling a plain typed array with
 * its shape. Nothing is scheduled here; block (i, j) of an operation is the task
 * `<op>-<token>-<i>-<j>`. Reductions over all axes or one combine partials in a tree, eight at a
 * time, so a block's data never has to meet the others: the mean of a 10,000 × 10,000 random
 * array in 1,000 × 1,000 blocks holds a few blocks at a time, never the whole array.
 */
import { type ComputeOptions, get } from '../schedule.js';
import { tokenize } from '../graph/tokenize.js';
import { registerModule } from '../loader/locate.js';
import { runtimeFile } from '../loader/register.js';
import * as ops from './ops.js';
import type { Block, DType, Reduction, TypedArray } from './ops.js';

export type { Block, DType, TypedArray } from './ops.js';

// the task functions are imported by workers from the package's arrayOps entry (or ops.ts, run from source)
registerModule(import.meta.url.endsWith('.ts') ? new URL('./ops.ts', import.meta.url).href : runtimeFile('arrayOps.js'), ops);

type Graph = Record<string, unknown>;
/** Chunk sizes: one for every axis, one per axis, or each axis's list of block sizes. */
export type Chunks = number | ReadonlyArray<number | readonly number[]>;
/** Reductions combine this many partials per task. */
const SPLIT_EVERY = 8;

function merged(...graphs: Array<Readonly<Graph>>): Graph {
  return Object.assign({}, ...graphs) as Graph;
}

/** Each axis's block sizes, from a chunk spec. */
function normalizeChunks(shape: readonly number[], chunks: Chunks): number[][] {
  return shape.map((n, axis) => {
    const spec = typeof chunks === 'number' ? chunks : chunks[axis];
    if (spec === undefined) throw new TypeError(`chunks ${JSON.stringify(chunks)} say nothing of axis ${axis} of shape ${JSON.stringify(shape)}`);
    if (Array.isArray(spec)) {
      if (spec.reduce((a: number, b: number) => a + b, 0) !== n) throw new RangeError(`chunks ${JSON.stringify(spec)} along axis ${axis} do not add up to its length ${n}`);
      return [...spec];
    }
    const size = spec as number;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size ${size} along axis ${axis}: give a positive integer`);
    const out: number[] = [];
    for (let at = 0; at < n; at += size) out.push(Math.min(size, n - at));
    return n === 0 ? [0] : out;
  });
}

/** Every block index of a grid, in row-major order. */
function* blockIndices(grid: readonly number[]): Generator<number[]> {
  const idx = new Array<number>(grid.length).fill(0);
  if (grid.some((g) => g === 0)) return;
  for (;;) {
    yield [...idx];
    let axis = grid.length - 1;
    for (; axis >= 0; axis--) {
      if (++idx[axis]! < grid[axis]!) break;
      idx[axis] = 0;
    }
    if (axis < 0) return;
  }
}

/** A computed array: its data in row-major order, and its shape. */
export interface Computed<T extends TypedArray = TypedArray> {
  readonly data: T;
  readonly shape: readonly number[];
}

/** A number computed from an array (a reduction over all axes). */
export class Scalar {
  constructor(
    readonly graph: Readonly<Graph>,
    readonly key: string,
  ) {}

  compute(options?: ComputeOptions): Promise<number> {
    return get(this.graph, this.key, options) as Promise<number>;
  }
}

export class ChunkedArray {
  /** Each axis's block sizes. */
  readonly chunks: readonly (readonly number[])[];

  constructor(
    /** The tasks that compute the blocks. */
    readonly graph: Readonly<Graph>,
    /** Block (i, j, …) is the key `${name}-${i}-${j}…`. */
    readonly name: string,
    readonly shape: readonly number[],
    chunks: readonly (readonly number[])[],
    readonly dtype: DType,
  ) {
    this.chunks = chunks;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Blocks per axis. */
  get numblocks(): number[] {
    return this.chunks.map((c) => c.length);
  }

  keyOf(index: readonly number[]): string {
    return `${this.name}-${index.join('-')}`;
  }

  /** Every block's key, in row-major order of the block grid. */
  get keys(): string[] {
    return [...blockIndices(this.numblocks)].map((i) => this.keyOf(i));
  }

  /** Runs the graph and assembles the array (a plain typed array and its shape). */
  async compute(options?: ComputeOptions): Promise<Computed> {
    const key = `assemble-${tokenize([this.name])}`;
    const block = (await get(merged(this.graph, { [key]: [ops.assemble, [...this.shape], this.numblocks, ...this.keys] }), key, options)) as Block;
    return { data: block.data, shape: block.shape };
  }

  /** A new array of the same blocks, each made by `[fn, ...before, block, ...after]`. */
  #blockwise(op: string, dtype: DType, fn: Function, before: unknown[], after: unknown[] = [], others: readonly ChunkedArray[] = []): ChunkedArray {
    const name = `${op}-${tokenize([this.name, ...others.map((o) => o.name), ...before, ...after])}`;
    const tasks: Graph = {};
    for (const idx of blockIndices(this.numblocks)) tasks[`${name}-${idx.join('-')}`] = [fn, ...before, this.keyOf(idx), ...after];
    return new ChunkedArray(merged(this.graph, ...others.map((o) => o.graph), tasks), name, this.shape, this.chunks, dtype);
  }

  #binary(op: 'add' | 'subtract' | 'multiply' | 'divide' | 'power' | 'maximum' | 'minimum', other: ChunkedArray | number, swapped = false): ChunkedArray {
    if (typeof other === 'number') {
      const dtype = ops.resultType(this.dtype, other, op);
      const name = `${op}-${tokenize([this.name, other, swapped])}`;
      const tasks: Graph = {};
      for (const idx of blockIndices(this.numblocks)) tasks[`${name}-${idx.join('-')}`] = swapped ? [ops.binaryBlock, op, other, this.keyOf(idx)] : [ops.binaryBlock, op, this.keyOf(idx), other];
      return new ChunkedArray(merged(this.graph, tasks), name, this.shape, this.chunks, dtype);
    }
    return broadcastBinary(op, this, other);
  }

  add(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('add', other);
  }
  sub(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('subtract', other);
  }
  mul(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('multiply', other);
  }
  div(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('divide', other);
  }
  pow(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('power', other);
  }
  /** `other - this` for a number (`rsub`), as `2 - x`. */
  rsub(other: number): ChunkedArray {
    return this.#binary('subtract', other, true);
  }
  rdiv(other: number): ChunkedArray {
    return this.#binary('divide', other, true);
  }
  maximum(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('maximum', other);
  }
  minimum(other: ChunkedArray | number): ChunkedArray {
    return this.#binary('minimum', other);
  }

  #unary(op: 'sqrt' | 'exp' | 'log' | 'abs' | 'sin' | 'cos' | 'tan' | 'negative' | 'floor' | 'ceil' | 'round'): ChunkedArray {
    return this.#blockwise(op, ops.resultType(this.dtype, undefined, op), ops.unaryBlock, [op]);
  }
  sqrt(): ChunkedArray {
    return this.#unary('sqrt');
  }
  exp(): ChunkedArray {
    return this.#unary('exp');
  }
  log(): ChunkedArray {
    return this.#unary('log');
  }
  abs(): ChunkedArray {
    return this.#unary('abs');
  }
  sin(): ChunkedArray {
    return this.#unary('sin');
  }
  cos(): ChunkedArray {
    return this.#unary('cos');
  }
  negative(): ChunkedArray {
    return this.#unary('negative');
  }
  /** `negative()`. */
  neg(): ChunkedArray {
    return this.#unary('negative');
  }

  /**
   * `fn(data, shape)` on each block: it returns the block's new data (a typed array or numbers, one
   * value per element) or a `{ data, shape }` block of the same shape.
   */
  mapBlocks(fn: (data: TypedArray, shape: readonly number[]) => TypedArray | number[] | Block | Promise<TypedArray | number[] | Block>, options: { dtype?: DType } = {}): ChunkedArray {
    const name = fn.name.replace(/[^A-Za-z0-9_]/g, '');
    return this.#blockwise(name === '' ? 'map-blocks' : `map-blocks-${name}`, options.dtype ?? this.dtype, ops.mapBlock, [fn, options.dtype ?? null]);
  }

  /** The axes in the order `axes` (reversed by default, as NumPy's `transpose`). */
  transpose(axes?: readonly number[]): ChunkedArray {
    const order = axes ?? this.shape.map((_, i) => this.ndim - 1 - i);
    if (order.length !== this.ndim || [...order].sort((a, b) => a - b).some((a, i) => a !== i)) throw new RangeError(`transpose: ${JSON.stringify(order)} is not an order of the ${this.ndim} axes`);
    const name = `transpose-${tokenize([this.name, ...order])}`;
    const tasks: Graph = {};
    for (const idx of blockIndices(order.map((a) => this.numblocks[a]!))) {
      const from = new Array<number>(this.ndim);
      order.forEach((a, i) => (from[a] = idx[i]!));
      tasks[`${name}-${idx.join('-')}`] = [ops.transposeBlock, [...order], this.keyOf(from)];
    }
    return new ChunkedArray(merged(this.graph, tasks), name, order.map((a) => this.shape[a]!), order.map((a) => this.chunks[a]!), this.dtype);
  }

  /** `transpose()`. */
  get T(): ChunkedArray {
    return this.transpose();
  }

  /**
   * The matrix product with `other` (both 2-D), block by block: block (i, j) is the sum over k of
   * block (i, k) times block (k, j). The blocks of this one's columns must match the other's rows.
   */
  matmul(other: ChunkedArray): ChunkedArray {
    if (this.ndim !== 2 || other.ndim !== 2) throw new RangeError(`matmul: both arrays must have 2 dimensions (shapes ${JSON.stringify(this.shape)} and ${JSON.stringify(other.shape)})`);
    if (this.shape[1] !== other.shape[0]) throw new RangeError(`matmul: shapes ${JSON.stringify(this.shape)} and ${JSON.stringify(other.shape)} do not fit (${this.shape[1]} columns, ${other.shape[0]} rows)`);
    if (JSON.stringify(this.chunks[1]) !== JSON.stringify(other.chunks[0])) throw new RangeError(`matmul: the blocks of the columns (${JSON.stringify(this.chunks[1])}) and of the rows (${JSON.stringify(other.chunks[0])}) differ: rechunk one of them`);
    const token = tokenize([this.name, other.name]);
    const name = `matmul-${token}`;
    const tasks: Graph = {};
    const [bi, bk] = this.numblocks as [number, number];
    const bj = other.numblocks[1]!;
    for (let i = 0; i < bi; i++) {
      for (let j = 0; j < bj; j++) {
        const parts: string[] = [];
        for (let k = 0; k < bk; k++) {
          const key = `matmul-part-${token}-${i}-${j}-${k}`;
          tasks[key] = [ops.matmulBlock, this.keyOf([i, k]), other.keyOf([k, j])];
          parts.push(key);
        }
        let level = parts;
        for (let depth = 0; level.length > SPLIT_EVERY; depth++) {
          const next: string[] = [];
          for (let g = 0; g < level.length; g += SPLIT_EVERY) {
            const key = `matmul-sum-${token}-${i}-${j}-${depth}-${g / SPLIT_EVERY}`;
            tasks[key] = [ops.sumBlocks, ...level.slice(g, g + SPLIT_EVERY)];
            next.push(key);
          }
          level = next;
        }
        tasks[`${name}-${i}-${j}`] = [ops.sumBlocks, ...level];
      }
    }
    const dtype: DType = this.dtype === 'float32' && other.dtype === 'float32' ? 'float32' : 'float64';
    return new ChunkedArray(merged(this.graph, other.graph, tasks), name, [this.shape[0]!, other.shape[1]!], [this.chunks[0]!, other.chunks[1]!], dtype);
  }

  /** `matmul`, as NumPy's `dot` for 2-D arrays. */
  dot(other: ChunkedArray): ChunkedArray {
    return this.matmul(other);
  }

  /**
   * Part of the array, per axis a `[start, stop, step]` (any may be null or left out; negative
   * values count from the end, as Python's slices; a negative step walks backwards), a number (that
   * index, and the axis goes), or null (the whole axis). Each block of the result is part of one
   * block of this array.
   */
  slice(...specs: Array<number | null | readonly [start?: number | null, stop?: number | null, step?: number | null]>): ChunkedArray {
    if (specs.length > this.ndim) throw new RangeError(`slice: ${specs.length} indices for an array of ${this.ndim} dimensions`);
    const token = tokenize([this.name, JSON.stringify(specs)]);
    const name = `getitem-${token}`;
    const drop: number[] = [];
    // per axis: the output blocks, each [input block, local start, count, step]
    const perAxis = this.shape.map((n, axis) => {
      const spec = specs[axis] ?? null;
      let start: number;
      let count: number;
      let step: number;
      if (typeof spec === 'number') {
        const i = spec < 0 ? spec + n : spec;
        if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`slice: index ${spec} is out of bounds for axis ${axis} of length ${n}`);
        drop.push(axis);
        [start, count, step] = [i, 1, 1];
      } else {
        const [a, b, c] = spec ?? [];
        step = c ?? 1;
        if (!Number.isInteger(step) || step === 0) throw new RangeError(`slice: step ${c} along axis ${axis}: give a non-zero integer`);
        const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v, low), high);
        const norm = (v: number | null | undefined, fallback: number, low: number, high: number) => (v === null || v === undefined ? fallback : clamp(v < 0 ? v + n : v, low, high));
        start = step > 0 ? norm(a, 0, 0, n) : norm(a, n - 1, -1, n - 1);
        const stop = step > 0 ? norm(b, n, 0, n) : norm(b, -1, -1, n - 1);
        count = Math.max(0, Math.ceil((stop - start) / step));
      }
      // the selected indices start + t·step, cut where the blocks of this axis end
      const starts = this.chunks[axis]!.reduce<number[]>((acc, c) => (acc.push(acc.at(-1)! + c), acc), [0]);
      const pieces: Array<[number, number, number, number]> = [];
      let t = 0;
      while (t < count) {
        const index = start + t * step;
        let b = 0;
        while (starts[b + 1]! <= index) b++;
        // how many of the next selected indices fall in block b
        const [lo, hi] = [starts[b]!, starts[b + 1]!];
        const fit = step > 0 ? Math.ceil((hi - index) / step) : Math.floor((index - lo) / -step) + 1;
        const take = Math.min(count - t, fit);
        pieces.push([b, index - lo, take, step]);
        t += take;
      }
      return pieces;
    });
    const tasks: Graph = {};
    for (const idx of blockIndices(perAxis.map((p) => p.length))) {
      const parts = idx.map((b, axis) => perAxis[axis]![b]!);
      tasks[`${name}-${idx.filter((_, axis) => !drop.includes(axis)).join('-')}`] = [ops.sliceBlock, parts.map(([, s, c, st]) => [s, c, st]), drop, this.keyOf(parts.map(([b]) => b))];
    }
    const keep = (_: unknown, axis: number) => !drop.includes(axis);
    return new ChunkedArray(merged(this.graph, tasks), name, perAxis.map((p) => p.reduce((a, [, , c]) => a + c, 0)).filter(keep), perAxis.map((p) => p.map(([, , c]) => c)).filter(keep), this.dtype);
  }

  /** The same values in blocks of other sizes: each new block put together from the parts of the old ones it overlaps. */
  rechunk(chunks: Chunks): ChunkedArray {
    const sizes = normalizeChunks(this.shape, chunks);
    const name = `rechunk-${tokenize([this.name, JSON.stringify(sizes)])}`;
    const oldStarts = this.chunks.map((c) => c.reduce<number[]>((acc, n) => (acc.push(acc.at(-1)! + n), acc), [0]));
    const newStarts = sizes.map((c) => c.reduce<number[]>((acc, n) => (acc.push(acc.at(-1)! + n), acc), [0]));
    const tasks: Graph = {};
    for (const idx of blockIndices(sizes.map((c) => c.length))) {
      // per axis, the old blocks it overlaps: [old block, offset there, offset here, extent]
      const overlaps = idx.map((b, axis) => {
        const [lo, hi] = [newStarts[axis]![b]!, newStarts[axis]![b + 1]!];
        const out: Array<[number, number, number, number]> = [];
        const old = oldStarts[axis]!;
        for (let o = 0; o < old.length - 1; o++) {
          const [olo, ohi] = [old[o]!, old[o + 1]!];
          const from = Math.max(lo, olo);
          const to = Math.min(hi, ohi);
          if (to > from) out.push([o, from - olo, from - lo, to - from]);
        }
        return out;
      });
      const pieces: unknown[] = [];
      for (const pick of blockIndices(overlaps.map((o) => o.length))) {
        const parts = pick.map((p, axis) => overlaps[axis]![p]!);
        pieces.push([parts.map(([, f]) => f), parts.map(([, , t]) => t), parts.map(([, , , e]) => e)], this.keyOf(parts.map(([o]) => o)));
      }
      tasks[`${name}-${idx.join('-')}`] = [ops.rechunkBlock, idx.map((b, axis) => sizes[axis]![b]!), this.dtype, ...pieces];
    }
    return new ChunkedArray(merged(this.graph, tasks), name, this.shape, sizes, this.dtype);
  }

  /**
   * A reduction as a tree: each block's partial (per element of the reduced shape), partials
   * combined eight at a time along the reduced axis (all blocks for a full reduction), then
   * finished. Over all axes: a Scalar; over one: an array without that axis.
   */
  #reduce(op: Reduction, axis: number | undefined, ddof = 0): ChunkedArray | Scalar {
    if (axis !== undefined && (!Number.isInteger(axis) || axis < -this.ndim || axis >= this.ndim)) throw new RangeError(`${op}: axis ${axis} is not an axis of an array of ${this.ndim} dimensions`);
    const ax = axis === undefined ? null : axis < 0 ? axis + this.ndim : axis;
    const token = tokenize([this.name, op, ax, ddof]);
    const tasks: Graph = {};
    const starts = this.chunks.map((sizes) => sizes.reduce<number[]>((acc, n) => (acc.push(acc.at(-1)! + n), acc), [0]));
    // the partials, grouped by the block index without the reduced axis (one group for a full reduction)
    const groups = new Map<string, string[]>();
    for (const idx of blockIndices(this.numblocks)) {
      const key = `${op}-partial-${token}-${idx.join('-')}`;
      tasks[key] = [ops.partialOf, op, ax, idx.map((b, a) => starts[a]![b]!), [...this.shape], this.keyOf(idx)];
      const group = ax === null ? '' : idx.filter((_, a) => a !== ax).join('-');
      let list = groups.get(group);
      if (list === undefined) groups.set(group, (list = []));
      list.push(key);
    }
    const outName = `${op}-${token}`;
    for (const [group, partials] of groups) {
      let level = partials;
      for (let depth = 0; level.length > 1; depth++) {
        const next: string[] = [];
        for (let i = 0; i < level.length; i += SPLIT_EVERY) {
          const key = `${op}-combine-${token}-${depth}-${i / SPLIT_EVERY}${group === '' ? '' : `-${group}`}`;
          tasks[key] = [ops.combinePartials, op, ...level.slice(i, i + SPLIT_EVERY)];
          next.push(key);
        }
        level = next;
      }
      tasks[group === '' ? outName : `${outName}-${group}`] = [ops.finishPartial, op, ddof, level[0]!];
    }
    const graph = merged(this.graph, tasks);
    const shape = this.shape.filter((_, a) => a !== ax);
    // over all axes, or the one axis of a vector: a number
    if (ax === null || shape.length === 0) return new Scalar(graph, outName);
    const dtype: DType = op === 'min' || op === 'max' ? this.dtype : 'float64';
    return new ChunkedArray(graph, outName, shape, this.chunks.filter((_, a) => a !== ax), dtype);
  }

  sum(): Scalar;
  sum(axis: number): ChunkedArray;
  sum(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('sum', axis);
  }
  mean(): Scalar;
  mean(axis: number): ChunkedArray;
  mean(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('mean', axis);
  }
  min(): Scalar;
  min(axis: number): ChunkedArray;
  min(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('min', axis);
  }
  max(): Scalar;
  max(axis: number): ChunkedArray;
  max(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('max', axis);
  }
  /** The variance (`ddof` 0 by default, as NumPy). */
  var(axis?: undefined, options?: { ddof?: number }): Scalar;
  var(axis: number, options?: { ddof?: number }): ChunkedArray;
  var(axis?: number, options: { ddof?: number } = {}): ChunkedArray | Scalar {
    return this.#reduce('var', axis, options.ddof ?? 0);
  }
  std(axis?: undefined, options?: { ddof?: number }): Scalar;
  std(axis: number, options?: { ddof?: number }): ChunkedArray;
  std(axis?: number, options: { ddof?: number } = {}): ChunkedArray | Scalar {
    return this.#reduce('std', axis, options.ddof ?? 0);
  }
  /** Where the minimum is: a flat index into the whole array, or along `axis`. */
  argmin(): Scalar;
  argmin(axis: number): ChunkedArray;
  argmin(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('argmin', axis);
  }
  argmax(): Scalar;
  argmax(axis: number): ChunkedArray;
  argmax(axis?: number): ChunkedArray | Scalar {
    return this.#reduce('argmax', axis);
  }
}

/** `op` of two arrays with NumPy's broadcasting; along an axis both have, their blocks must match. */
function broadcastBinary(op: string, a: ChunkedArray, b: ChunkedArray): ChunkedArray {
  const ndim = Math.max(a.ndim, b.ndim);
  const pad = (x: ChunkedArray) => ({ shape: [...Array<number>(ndim - x.ndim).fill(1), ...x.shape], chunks: [...Array<number[]>(ndim - x.ndim).fill([1]), ...x.chunks.map((c) => [...c])], lead: ndim - x.ndim });
  const pa = pad(a);
  const pb = pad(b);
  const shape: number[] = [];
  const chunks: number[][] = [];
  for (let axis = 0; axis < ndim; axis++) {
    const [na, nb] = [pa.shape[axis]!, pb.shape[axis]!];
    if (na !== nb && na !== 1 && nb !== 1) throw new RangeError(`${op}: shapes ${JSON.stringify(a.shape)} and ${JSON.stringify(b.shape)} do not broadcast (axis ${axis}: ${na} and ${nb})`);
    if (na === nb && na !== 1 && JSON.stringify(pa.chunks[axis]) !== JSON.stringify(pb.chunks[axis])) throw new RangeError(`${op}: along axis ${axis} the blocks differ (${JSON.stringify(pa.chunks[axis])} and ${JSON.stringify(pb.chunks[axis])}): give both arrays the same chunks`);
    shape.push(Math.max(na, nb));
    chunks.push(na === 1 ? pb.chunks[axis]! : pa.chunks[axis]!);
  }
  const dtype = ops.resultType(a.dtype, b.dtype, op);
  const name = `${op}-${tokenize([a.name, b.name])}`;
  const tasks: Graph = {};
  const blockOf = (x: ChunkedArray, p: { shape: number[]; lead: number }, idx: number[]) => x.keyOf(idx.slice(p.lead).map((v, i) => (p.shape[i + p.lead] === 1 ? 0 : v)));
  for (const idx of blockIndices(chunks.map((c) => c.length))) tasks[`${name}-${idx.join('-')}`] = [ops.binaryBlock, op, blockOf(a, pa, idx), blockOf(b, pb, idx)];
  return new ChunkedArray(merged(a.graph, b.graph, tasks), name, shape, chunks, dtype);
}

function create(op: string, shape: readonly number[], chunks: Chunks, dtype: DType, task: (blockShape: number[], flat: number, idx: number[], starts: number[]) => unknown[], token: unknown[]): ChunkedArray {
  const sizes = normalizeChunks(shape, chunks);
  const name = `${op}-${tokenize([...shape, JSON.stringify(sizes), dtype, ...token])}`;
  const graph: Graph = {};
  const starts = sizes.map((s) => s.reduce<number[]>((acc, n) => (acc.push(acc.at(-1)! + n), acc), [0]));
  let flat = 0;
  for (const idx of blockIndices(sizes.map((s) => s.length))) {
    graph[`${name}-${idx.join('-')}`] = task(idx.map((b, axis) => sizes[axis]![b]!), flat++, idx, idx.map((b, axis) => starts[axis]![b]!));
  }
  return new ChunkedArray(graph, name, [...shape], sizes, dtype);
}

export const random = {
  /** Uniform numbers in [0, 1): the same array for the same seed (default 0) and chunks, on any scheduler. */
  random(shape: readonly number[], options: { chunks: Chunks; seed?: number; dtype?: 'float64' | 'float32' }): ChunkedArray {
    const dtype = options.dtype ?? 'float64';
    const seed = options.seed ?? 0;
    return create('random', shape, options.chunks, dtype, (blockShape, flat) => [ops.randomBlock, seed, flat, blockShape, dtype], [seed]);
  },
};

export function zeros(shape: readonly number[], options: { chunks: Chunks; dtype?: DType }): ChunkedArray {
  const dtype = options.dtype ?? 'float64';
  return create('zeros', shape, options.chunks, dtype, (blockShape) => [ops.fullBlock, 0, blockShape, dtype], []);
}

export function ones(shape: readonly number[], options: { chunks: Chunks; dtype?: DType }): ChunkedArray {
  const dtype = options.dtype ?? 'float64';
  return create('ones', shape, options.chunks, dtype, (blockShape) => [ops.fullBlock, 1, blockShape, dtype], []);
}

/** `start`, `start + step`, … below `stop` (`arange(n)`: 0 … n-1). */
export function arange(start: number, stop?: number, step = 1, options: { chunks?: Chunks; dtype?: DType } = {}): ChunkedArray {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  const n = Math.max(0, Math.ceil((to - from) / step));
  const dtype = options.dtype ?? (Number.isInteger(from) && Number.isInteger(step) ? 'int32' : 'float64');
  return create('arange', [n], options.chunks ?? n, dtype, (blockShape, _flat, _idx, starts) => [ops.arangeBlock, from + starts[0]! * step, step, blockShape[0]!, dtype], [from, step]);
}

/** An array of your data (a typed array, or numbers), of `shape` (its length by default), split into `chunks`. */
export function fromArray(data: TypedArray | readonly number[], options: { shape?: readonly number[]; chunks: Chunks; dtype?: DType }): ChunkedArray {
  const typed: TypedArray = ArrayBuffer.isView(data) ? data : Float64Array.from(data);
  const shape = options.shape ?? [typed.length];
  if (shape.reduce((a, b) => a * b, 1) !== typed.length) throw new RangeError(`fromArray: shape ${JSON.stringify(shape)} holds ${shape.reduce((a, b) => a * b, 1)} values, the data ${typed.length}`);
  const dtype = options.dtype ?? ops.dtypeOf(typed);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return create('array', shape, options.chunks, dtype, (blockShape, _flat, _idx, starts) => {
    // the block copied out of the data here, and held in a Map so the graph keeps it as data
    const size = blockShape.reduce((a, b) => a * b, 1);
    const block = ops.allocate(dtype, size);
    const local = new Array<number>(blockShape.length).fill(0);
    for (let i = 0; i < size; i++) {
      let at = 0;
      for (let axis = 0; axis < shape.length; axis++) at += (starts[axis]! + local[axis]!) * strides[axis]!;
      block[i] = typed[at]!;
      for (let axis = blockShape.length - 1; axis >= 0; axis--) {
        if (++local[axis]! < blockShape[axis]!) break;
        local[axis] = 0;
      }
    }
    return [ops.unquoteBlock, new Map([[0, { data: block, shape: blockShape }]])];
  }, [typed]);
}

/** Elementwise functions, as NumPy's: `sqrt(x)`, `add(x, y)` … */
export const add = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.add(b);
export const subtract = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.sub(b);
export const multiply = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.mul(b);
export const divide = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.div(b);
export const power = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.pow(b);
export const maximum = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.maximum(b);
export const minimum = (a: ChunkedArray, b: ChunkedArray | number): ChunkedArray => a.minimum(b);
export const sqrt = (a: ChunkedArray): ChunkedArray => a.sqrt();
export const exp = (a: ChunkedArray): ChunkedArray => a.exp();
export const log = (a: ChunkedArray): ChunkedArray => a.log();
export const abs = (a: ChunkedArray): ChunkedArray => a.abs();
export const sin = (a: ChunkedArray): ChunkedArray => a.sin();
export const cos = (a: ChunkedArray): ChunkedArray => a.cos();

export { ChunkedArray as Array };
