/**
 * The task functions of chunked arrays (array/index.ts): each makes or transforms blocks, or
 * reduces them. A block is `{ data, shape }`: a typed array in row-major order and its shape.
 * Exported, so every scheduler's workers import them by module and name (the package's
 * `arrayOps` entry).
 */
import { createCipheriv } from 'node:crypto';

export type DType = 'float64' | 'float32' | 'int32';
export type TypedArray = Float64Array | Float32Array | Int32Array;

export interface Block {
  readonly data: TypedArray;
  readonly shape: readonly number[];
}

const CONSTRUCTORS = { float64: Float64Array, float32: Float32Array, int32: Int32Array } as const;

export function allocate(dtype: DType, length: number): TypedArray {
  return new CONSTRUCTORS[dtype](length);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'float64';
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes of keystream made at a time (a 64 KiB buffer reused, never the block's whole size). */
const STREAM_CHUNK = 64 * 1024;
let zeros: Uint8Array | undefined;

/**
 * A block of uniform random numbers in [0, 1), the same for the same seed and block whatever
 * runs it: the keystream of AES-128 in counter mode (Node's crypto, OpenSSL, which uses the CPU's
 * AES instructions), keyed by (seed, block), 53 bits per float64 and 24 per float32, as NumPy
 * takes them. A counter-based generator needs no state carried from block to block, and this one
 * is about twice as fast as computing xoshiro128+ in JavaScript.
 */
export function randomBlock(seed: number, block: number, shape: readonly number[], dtype: DType): Block {
  const data = allocate(dtype, sizeOf(shape));
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed >>> 0, 0);
  key.writeUInt32LE(Math.floor(seed / 4294967296) >>> 0, 4);
  key.writeUInt32LE(block >>> 0, 8);
  key.writeUInt32LE(0x736b6e, 12); // "skn"
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  zeros ??= new Uint8Array(STREAM_CHUNK);
  const wide = dtype === 'float64';
  const perChunk = STREAM_CHUNK / (wide ? 8 : 4);
  for (let start = 0; start < data.length; start += perChunk) {
    const bytes = cipher.update(zeros);
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    const end = Math.min(data.length, start + perChunk);
    if (wide) for (let i = start, j = 0; i < end; i++, j += 2) data[i] = ((w[j]! >>> 5) * 67108864 + (w[j + 1]! >>> 6)) / 9007199254740992;
    else for (let i = start, j = 0; i < end; i++, j++) data[i] = (w[j]! >>> 8) / 16777216;
  }
  return { data, shape };
}

export function fullBlock(value: number, shape: readonly number[], dtype: DType): Block {
  return { data: allocate(dtype, sizeOf(shape)).fill(value), shape };
}

export function arangeBlock(start: number, step: number, length: number, dtype: DType): Block {
  const data = allocate(dtype, length);
  for (let i = 0; i < length; i++) data[i] = start + i * step;
  return { data, shape: [length] };
}

/** A block given as data: held in a Map so the graph keeps it as it is. */
export function unquoteBlock(held: ReadonlyMap<0, Block>): Block {
  return held.get(0)!;
}

type Binary = 'add' | 'subtract' | 'multiply' | 'divide' | 'power' | 'maximum' | 'minimum';
type Unary = 'sqrt' | 'exp' | 'log' | 'abs' | 'sin' | 'cos' | 'tan' | 'negative' | 'floor' | 'ceil' | 'round';

const BINARY: Record<Binary, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  power: (a, b) => a ** b,
  maximum: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a < b || Number.isNaN(a) ? a : b),
};

const UNARY: ReadonlySet<string> = new Set<Unary>(['sqrt', 'exp', 'log', 'abs', 'sin', 'cos', 'tan', 'negative', 'floor', 'ceil', 'round']);

/**
 * The dtype of an elementwise result, as NumPy's: integers stay integers only under operations
 * that keep them so, float32 stays float32 unless float64 joins it. `b`: the other operand's
 * dtype; a number, which does not widen an array of its kind (float32 + 1.5 is float32, int32 +
 * 1.5 float64); undefined for a unary operation. The arrays' dtypes (index.ts) and the blocks'
 * typed arrays come from this one rule.
 */
export function resultType(a: DType, b: DType | number | undefined, op: string): DType {
  if (typeof b === 'number') b = Number.isInteger(b) || a !== 'int32' ? a : 'float64';
  if (op === 'divide' || op === 'power' || (UNARY.has(op) && !['abs', 'negative', 'floor', 'ceil', 'round'].includes(op))) return a === 'float32' && (b ?? 'float32') === 'float32' ? 'float32' : 'float64';
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/*
 * The loops of elementwise operations are written once per operation: a call per element
 * through a table of functions costs about ten times the loop (a call site that sees several
 * functions is not inlined), 14 ms for the sum of two 1,000 × 1,000 blocks against 4.4 ms here.
 */

export function unaryBlock(op: Unary, x: Block): Block {
  const out = allocate(resultType(dtypeOf(x.data), undefined, op), x.data.length);
  const d = x.data;
  const n = d.length;
  switch (op) {
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(d[i]!); break;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(d[i]!); break;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(d[i]!); break;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(d[i]!); break;
    case 'sin': for (let i = 0; i < n; i++) out[i] = Math.sin(d[i]!); break;
    case 'cos': for (let i = 0; i < n; i++) out[i] = Math.cos(d[i]!); break;
    case 'tan': for (let i = 0; i < n; i++) out[i] = Math.tan(d[i]!); break;
    case 'negative': for (let i = 0; i < n; i++) out[i] = -d[i]!; break;
    case 'floor': for (let i = 0; i < n; i++) out[i] = Math.floor(d[i]!); break;
    case 'ceil': for (let i = 0; i < n; i++) out[i] = Math.ceil(d[i]!); break;
    case 'round': for (let i = 0; i < n; i++) out[i] = Math.round(d[i]!); break;
    default: throw new RangeError(`no elementwise operation ${String(op)}`);
  }
  return { data: out, shape: x.shape };
}

/** `out[i] = x[i] op y[i]`, for two blocks of one shape. */
function zipBlocks(op: Binary, x: TypedArray, y: TypedArray, out: TypedArray): void {
  const n = out.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!; break;
    case 'subtract': for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!; break;
    case 'multiply': for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!; break;
    case 'divide': for (let i = 0; i < n; i++) out[i] = x[i]! / y[i]!; break;
    case 'power': for (let i = 0; i < n; i++) out[i] = x[i]! ** y[i]!; break;
    default: { const f = BINARY[op]; for (let i = 0; i < n; i++) out[i] = f(x[i]!, y[i]!); }
  }
}

/** `out[i] = x[i] op s`, or `s op x[i]` when `scalarFirst`. */
function zipScalar(op: Binary, x: TypedArray, s: number, scalarFirst: boolean, out: TypedArray): void {
  const n = out.length;
  switch (scalarFirst && (op === 'subtract' || op === 'divide' || op === 'power') ? `r${op}` : op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x[i]! + s; break;
    case 'subtract': for (let i = 0; i < n; i++) out[i] = x[i]! - s; break;
    case 'rsubtract': for (let i = 0; i < n; i++) out[i] = s - x[i]!; break;
    case 'multiply': for (let i = 0; i < n; i++) out[i] = x[i]! * s; break;
    case 'divide': for (let i = 0; i < n; i++) out[i] = x[i]! / s; break;
    case 'rdivide': for (let i = 0; i < n; i++) out[i] = s / x[i]!; break;
    case 'power': for (let i = 0; i < n; i++) out[i] = x[i]! ** s; break;
    case 'rpower': for (let i = 0; i < n; i++) out[i] = s ** x[i]!; break;
    default: {
      const f = BINARY[op];
      if (scalarFirst) for (let i = 0; i < n; i++) out[i] = f(s, x[i]!);
      else for (let i = 0; i < n; i++) out[i] = f(x[i]!, s);
    }
  }
}

/** `op` elementwise, with NumPy's broadcasting (a number, or a block whose axes are 1 or missing where the other's are not). */
export function binaryBlock(op: Binary, a: Block | number, b: Block | number): Block {
  const f = BINARY[op];
  if (typeof a === 'number' && typeof b === 'number') return { data: Float64Array.of(f(a, b)), shape: [] };
  if (typeof b === 'number' || typeof a === 'number') {
    const block = (typeof a === 'number' ? b : a) as Block;
    const scalar = (typeof a === 'number' ? a : b) as number;
    const type = resultType(dtypeOf(block.data), scalar, op);
    const out = allocate(type, block.data.length);
    zipScalar(op, block.data, scalar, typeof a === 'number', out);
    return { data: out, shape: block.shape };
  }
  const type = resultType(dtypeOf(a.data), dtypeOf(b.data), op);
  if (a.shape.length === b.shape.length && a.shape.every((n, i) => n === b.shape[i])) {
    const out = allocate(type, a.data.length);
    zipBlocks(op, a.data, b.data, out);
    return { data: out, shape: a.shape };
  }
  // broadcasting: strides of 0 along the axes an operand repeats
  const ndim = Math.max(a.shape.length, b.shape.length);
  const dimsOf = (s: readonly number[]) => [...Array<number>(ndim - s.length).fill(1), ...s];
  const da = dimsOf(a.shape);
  const db = dimsOf(b.shape);
  const shape = da.map((n, i) => Math.max(n, db[i]!));
  const strides = (dims: number[]): number[] => {
    const out = new Array<number>(ndim);
    let acc = 1;
    for (let i = ndim - 1; i >= 0; i--) {
      out[i] = dims[i] === 1 && shape[i] !== 1 ? 0 : acc;
      acc *= dims[i]!;
    }
    return out;
  };
  const sa = strides(da);
  const sb = strides(db);
  const out = allocate(type, sizeOf(shape));
  const index = new Array<number>(ndim).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = f(a.data[ia]!, b.data[ib]!);
    for (let axis = ndim - 1; axis >= 0; axis--) {
      ia += sa[axis]!;
      ib += sb[axis]!;
      if (++index[axis]! < shape[axis]!) break;
      ia -= sa[axis]! * shape[axis]!;
      ib -= sb[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return { data: out, shape };
}

/** Your function on a block's data (mapBlocks): it returns the new data, of the same length, or a block. */
export async function mapBlock(fn: (data: TypedArray, shape: readonly number[]) => TypedArray | number[] | Block | Promise<TypedArray | number[] | Block>, dtype: DType | null, x: Block): Promise<Block> {
  const r = await fn(x.data, x.shape);
  if (r !== null && typeof r === 'object' && 'data' in r && 'shape' in r) return r;
  const data = ArrayBuffer.isView(r) ? r : allocate(dtype ?? dtypeOf(x.data), (r as number[]).length);
  if (!ArrayBuffer.isView(r)) data.set(r as number[]);
  if (data.length !== x.data.length) throw new RangeError(`mapBlocks: the function returned ${data.length} values for a block of ${x.data.length} (shape ${x.shape.join('×')}); return one value per element, or a { data, shape } block`);
  return { data, shape: x.shape };
}

/**
 * A reduction's partial of one block: per element of the reduced shape (the block's shape without
 * `axis`; one element when reducing everything), what the reduction needs: the count and the sum,
 * the mean and the sum of squared deviations (var, std: Chan's parallel form), the minimum or
 * maximum, and for arg- reductions the index where it is (along `axis`, or flat in the whole array).
 */
export interface Partial {
  readonly shape: readonly number[];
  readonly count: number;
  readonly sum?: Float64Array;
  readonly mean?: Float64Array;
  readonly m2?: Float64Array;
  readonly value?: Float64Array;
  readonly index?: Float64Array;
}

export type Reduction = 'sum' | 'mean' | 'min' | 'max' | 'var' | 'std' | 'argmin' | 'argmax';

/**
 * The partial of `x` for `op` along `axis` (null: all axes). `offset`: where the block starts in
 * the whole array, per axis; `whole`: the whole array's shape (for arg- reductions' indices).
 */
export function partialOf(op: Reduction, axis: number | null, offset: readonly number[], whole: readonly number[], x: Block): Partial {
  const shape = x.shape;
  const d = x.data;
  const outShape = axis === null ? [] : shape.filter((_, i) => i !== axis);
  const n = axis === null ? d.length : shape[axis]!;
  const outer = axis === null ? 1 : sizeOf(shape.slice(0, axis));
  const inner = axis === null ? 1 : sizeOf(shape.slice(axis + 1));
  const m = outer * inner;
  if (op === 'sum' || op === 'mean') {
    const sum = new Float64Array(m);
    if (axis === null) {
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i]!;
      sum[0] = s;
    } else for (let o = 0; o < outer; o++) for (let k = 0; k < n; k++) for (let j = 0, base = (o * n + k) * inner; j < inner; j++) sum[o * inner + j]! += d[base + j]!;
    return { shape: outShape, count: n, sum };
  }
  if (op === 'var' || op === 'std') {
    const mean = new Float64Array(m);
    const m2 = new Float64Array(m);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += d[(o * n + k) * inner + j]!;
        const mu = s / n;
        let q = 0;
        for (let k = 0; k < n; k++) {
          const e = d[(o * n + k) * inner + j]! - mu;
          q += e * e;
        }
        mean[o * inner + j] = mu;
        m2[o * inner + j] = q;
      }
    }
    return { shape: outShape, count: n, mean, m2 };
  }
  const lower = op === 'min' || op === 'argmin';
  const value = new Float64Array(m).fill(lower ? Infinity : -Infinity);
  const index = op === 'argmin' || op === 'argmax' ? new Float64Array(m).fill(-1) : undefined;
  // row-major strides of the whole array: a block element's flat index there
  const wholeStrides = whole.map((_, i) => sizeOf(whole.slice(i + 1)));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < inner; j++) {
        const v = d[(o * n + k) * inner + j]!;
        const at = o * inner + j;
        if (lower ? v < value[at]! : v > value[at]!) {
          value[at] = v;
          if (index !== undefined) index[at] = axis === null ? flatIndex((o * n + k) * inner + j, shape, offset, wholeStrides) : offset[axis]! + k;
        } else if (Number.isNaN(v) && !Number.isNaN(value[at]!)) {
          value[at] = v; // NaN wins, as in NumPy
          if (index !== undefined) index[at] = axis === null ? flatIndex((o * n + k) * inner + j, shape, offset, wholeStrides) : offset[axis]! + k;
        }
      }
    }
  }
  return { shape: outShape, count: n, value, index };
}

/** The flat index in the whole array of element `i` of a block at `offset`. */
function flatIndex(i: number, shape: readonly number[], offset: readonly number[], wholeStrides: readonly number[]): number {
  let flat = 0;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const n = shape[axis]!;
    flat += (offset[axis]! + (i % n)) * wholeStrides[axis]!;
    i = Math.floor(i / n);
  }
  return flat;
}

/** Partials of blocks along the reduced axis (or of all blocks) combined into one. */
export function combinePartials(op: Reduction, ...parts: Partial[]): Partial {
  const first = parts[0]!;
  const m = first.sum?.length ?? first.mean?.length ?? first.value?.length ?? 1;
  let count = 0;
  if (op === 'sum' || op === 'mean') {
    const sum = new Float64Array(m);
    for (const p of parts) {
      count += p.count;
      for (let i = 0; i < m; i++) sum[i]! += p.sum![i]!;
    }
    return { shape: first.shape, count, sum };
  }
  if (op === 'var' || op === 'std') {
    const mean = new Float64Array(m);
    const m2 = new Float64Array(m);
    for (const p of parts) {
      const nb = p.count;
      const total = count + nb;
      for (let i = 0; i < m; i++) {
        const delta = p.mean![i]! - mean[i]!;
        mean[i]! += (delta * nb) / total;
        m2[i]! += p.m2![i]! + (delta * delta * count * nb) / total;
      }
      count = total;
    }
    return { shape: first.shape, count, mean, m2 };
  }
  const lower = op === 'min' || op === 'argmin';
  const value = new Float64Array(m).fill(lower ? Infinity : -Infinity);
  const index = first.index === undefined ? undefined : new Float64Array(m).fill(-1);
  for (const p of parts) {
    count += p.count;
    for (let i = 0; i < m; i++) {
      const v = p.value![i]!;
      if ((lower ? v < value[i]! : v > value[i]!) || (Number.isNaN(v) && !Number.isNaN(value[i]!))) {
        value[i] = v;
        if (index !== undefined) index[i] = p.index![i]!;
      }
    }
  }
  return { shape: first.shape, count, value, index };
}

/** The reduction's values from a partial: a block of the reduced shape (a number when all axes were reduced). */
export function finishPartial(op: Reduction, ddof: number, p: Partial): Block | number {
  const m = p.sum?.length ?? p.mean?.length ?? p.value?.length ?? 1;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    switch (op) {
      case 'sum':
        out[i] = p.sum![i]!;
        break;
      case 'mean':
        out[i] = p.sum![i]! / p.count;
        break;
      case 'var':
        out[i] = p.m2![i]! / (p.count - ddof);
        break;
      case 'std':
        out[i] = Math.sqrt(p.m2![i]! / (p.count - ddof));
        break;
      case 'min':
      case 'max':
        out[i] = p.value![i]!;
        break;
      case 'argmin':
      case 'argmax':
        out[i] = p.index![i]!;
        break;
    }
  }
  return p.shape.length === 0 ? out[0]! : { data: out, shape: p.shape };
}

/** The whole array from its blocks (row-major, `grid` blocks per axis, in grid order). */
export function assemble(shape: readonly number[], grid: readonly number[], ...blocks: Block[]): Block {
  const dtype = blocks.length === 0 ? 'float64' : dtypeOf(blocks[0]!.data);
  const out = allocate(dtype, sizeOf(shape));
  const ndim = shape.length;
  if (ndim === 0) return { data: blocks[0]!.data, shape: [] };
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  // each block's offset per axis: the sizes of the blocks before it along that axis
  const starts: number[][] = grid.map(() => [0]);
  const blockIndex = (b: number): number[] => {
    const idx = new Array<number>(ndim);
    for (let axis = ndim - 1; axis >= 0; axis--) {
      idx[axis] = b % grid[axis]!;
      b = Math.floor(b / grid[axis]!);
    }
    return idx;
  };
  blocks.forEach((block, b) => {
    const idx = blockIndex(b);
    for (let axis = 0; axis < ndim; axis++) if (idx.every((v, i) => i === axis || v === 0)) starts[axis]![idx[axis]! + 1] = starts[axis]![idx[axis]!]! + block.shape[axis]!;
  });
  blocks.forEach((block, b) => {
    const idx = blockIndex(b);
    const origin = idx.map((v, axis) => starts[axis]![v]!);
    const rows = sizeOf(block.shape.slice(0, -1));
    const width = block.shape[ndim - 1]!;
    const local = new Array<number>(ndim - 1).fill(0);
    for (let r = 0; r < rows; r++) {
      let at = origin[ndim - 1]!;
      for (let axis = 0; axis < ndim - 1; axis++) at += (origin[axis]! + local[axis]!) * strides[axis]!;
      out.set(block.data.subarray(r * width, (r + 1) * width), at);
      for (let axis = ndim - 2; axis >= 0; axis--) {
        if (++local[axis]! < block.shape[axis]!) break;
        local[axis] = 0;
      }
    }
  });
  return { data: out, shape };
}

/** A block with its axes in the order `axes` (transpose). */
export function transposeBlock(axes: readonly number[], x: Block): Block {
  const shape = axes.map((a) => x.shape[a]!);
  const out = allocate(dtypeOf(x.data), x.data.length);
  const inStrides = x.shape.map((_, i) => sizeOf(x.shape.slice(i + 1)));
  const strides = axes.map((a) => inStrides[a]!);
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  let from = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = x.data[from]!;
    for (let axis = ndim - 1; axis >= 0; axis--) {
      from += strides[axis]!;
      if (++index[axis]! < shape[axis]!) break;
      from -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return { data: out, shape };
}

/** The product of two 2-D blocks (rows of `a` by columns of `b`). */
export function matmulBlock(a: Block, b: Block): Block {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const type: DType = dtypeOf(a.data) === 'float32' && dtypeOf(b.data) === 'float32' ? 'float32' : 'float64';
  const out = allocate(type, m * n);
  const A = a.data;
  const B = b.data;
  // i-k-j: the inner loop runs along rows of B and of the result
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const v = A[i * k + p]!;
      if (v === 0) continue;
      const brow = p * n;
      for (let j = 0; j < n; j++) out[row + j]! += v * B[brow + j]!;
    }
  }
  return { data: out, shape: [m, n] };
}

/** The elementwise sum of blocks of one shape. */
export function sumBlocks(...blocks: Block[]): Block {
  const first = blocks[0]!;
  const out = allocate(blocks.some((b) => dtypeOf(b.data) === 'float64') ? 'float64' : dtypeOf(first.data), first.data.length);
  for (const b of blocks) for (let i = 0; i < out.length; i++) out[i]! += b.data[i]!;
  return { data: out, shape: first.shape };
}

/**
 * Part of a block, per axis `[start, count, step]` in the block's own indices (step may be
 * negative); `drop`: the axes an integer index took away.
 */
export function sliceBlock(specs: ReadonlyArray<readonly [number, number, number]>, drop: readonly number[], x: Block): Block {
  const inStrides = x.shape.map((_, i) => sizeOf(x.shape.slice(i + 1)));
  const counts = specs.map(([, count]) => count);
  const out = allocate(dtypeOf(x.data), sizeOf(counts));
  const ndim = specs.length;
  const index = new Array<number>(ndim).fill(0);
  let from = 0;
  for (let axis = 0; axis < ndim; axis++) from += specs[axis]![0] * inStrides[axis]!;
  for (let o = 0; o < out.length; o++) {
    out[o] = x.data[from]!;
    for (let axis = ndim - 1; axis >= 0; axis--) {
      const step = specs[axis]![2] * inStrides[axis]!;
      from += step;
      if (++index[axis]! < counts[axis]!) break;
      from -= step * counts[axis]!;
      index[axis] = 0;
    }
  }
  return { data: out, shape: counts.filter((_, axis) => !drop.includes(axis)) };
}

/**
 * A block put together from parts of others (rechunk): `pieces` holds, for each part, the source
 * block's offset of the part, the part's offset in the new block and its extent, per axis, each
 * followed by the source block (the graph passes its value).
 */
export function rechunkBlock(shape: readonly number[], dtype: DType, ...pieces: unknown[]): Block {
  const out = allocate(dtype, sizeOf(shape));
  const outStrides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  for (let p = 0; p < pieces.length; p += 2) {
    const [from, to, extent] = pieces[p] as [number[], number[], number[]];
    const src = pieces[p + 1] as Block;
    const srcStrides = src.shape.map((_, i) => sizeOf(src.shape.slice(i + 1)));
    const ndim = shape.length;
    const rows = sizeOf(extent.slice(0, -1));
    const width = extent[ndim - 1]!;
    const local = new Array<number>(Math.max(0, ndim - 1)).fill(0);
    for (let r = 0; r < rows; r++) {
      let s = from[ndim - 1]!;
      let d = to[ndim - 1]!;
      for (let axis = 0; axis < ndim - 1; axis++) {
        s += (from[axis]! + local[axis]!) * srcStrides[axis]!;
        d += (to[axis]! + local[axis]!) * outStrides[axis]!;
      }
      out.set(src.data.subarray(s, s + width), d);
      for (let axis = ndim - 2; axis >= 0; axis--) {
        if (++local[axis]! < extent[axis]!) break;
        local[axis] = 0;
      }
    }
  }
  return { data: out, shape };
}
