// Small exported task functions shared by the behaviour suite: exported, so every scheduler
// (threads and processes included) can locate them by module URL + export name.
import { existsSync, writeFileSync } from 'node:fs';
export const inc = (x: number): number => x + 1;
export const add = (a: number, b: number): number => a + b;
export const sum = (...xs: number[]): number => xs.reduce((a, b) => a + b, 0);
export const identity = <T>(x: T): T => x;
export const concat = (...parts: unknown[]): string => parts.map(String).join('');
export const pack = (value: unknown): unknown => value;
export const double = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return 2 * x;
};
export function fail(message: string): never {
  throw new Error(message);
}
export function failWithCode(code: string): never {
  throw Object.assign(new RangeError(`bad input ${code}`), { code });
}
export const sleep = (ms: number): Promise<number> => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
export const hang = (): Promise<never> => new Promise(() => {});
/** Busy loop: ~`ms` of pure JavaScript arithmetic on whichever thread runs it. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) % 1000003;
  return x;
}
export function exitProcess(code: number): never {
  process.exit(code);
}
export const makeShared = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);
/** Writes `value` at `index` of a shared buffer; returns nothing but the fact it wrote. */
export function writeAt(buffer: SharedArrayBuffer, index: number, value: number): boolean {
  Atomics.store(new Int32Array(buffer), index, value);
  return true;
}
export const readAll = (buffer: SharedArrayBuffer, ..._after: unknown[]): number[] => Array.from(new Int32Array(buffer));
export const makeFunction = (): (() => number) => () => 1;
export const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);
export const byteSum = (a: Uint8Array): number => a.reduce((s, x) => s + x, 0);
/** Fails with a message that says where it ran: in a Skein worker or in the calling thread. */
export function failWhere(): never {
  const worker = (globalThis as Record<symbol, unknown>)[Symbol.for('skein.worker')];
  throw new Error(`failed in ${worker === undefined ? 'the calling thread' : 'a worker'}`);
}
let lastBig: Uint8Array | undefined;
/** A 1 MiB result; keeps a reference so a later task on the same thread can see it was moved. */
export function makeBig(): Uint8Array {
  lastBig = new Uint8Array(1 << 20).fill(1);
  return lastBig;
}
export const lastBigLength = (): number => lastBig?.byteLength ?? -1;
export const bigArray = (n: number): Float64Array => new Float64Array(n).fill(1);
export const firstOf = (...xs: Float64Array[]): number => xs.reduce((s, x) => s + x[0]!, 0);
export const make = (x: number): { v: number } => ({ v: x });
/** Fails with a message that shows the value it received. */
export function useValue(o: { v: number }): never {
  throw new Error(`real failure: v is ${o.v}`);
}
export const makeWeak = (): { map: WeakMap<object, number> } => ({ map: new WeakMap() });
/** Waits `ms` once its dependencies (ignored) are done: a stage of a pipeline that does I/O. */
export const sleepAfter = (ms: number, ..._deps: unknown[]): Promise<number> => sleep(ms);
/** The name of the worker running it ("thread-3", "process-1234"), or "main". */
export const whereAmI = (..._deps: unknown[]): string => String((globalThis as Record<symbol, unknown>)[Symbol.for('skein.worker')] ?? 'main');
/** The sum of one list argument. */
export const listSum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
/** Throws whatever it is given: a string, an object, undefined. */
export function throwValue(value: unknown): never {
  throw value;
}
export const makeBuffer = (text: string): Buffer => Buffer.from(text, 'utf8');
export const describeBuffers = (b: Buffer, o: { inner: Buffer[] }): string => `${Buffer.isBuffer(b)} ${b.toString('utf8')} ${Buffer.isBuffer(o.inner[0])}`;
export const wrapBuffer = (b: Buffer): { inner: Buffer[] } => ({ inner: [b] });
/** A result that contains itself. */
export function makeCycle(): { n: number; self?: unknown } {
  const o: { n: number; self?: unknown } = { n: 7 };
  o.self = o;
  return o;
}
/** Computes for `ms` once its dependencies (ignored) are done: a CPU-bound stage of a pipeline. */
export const spinAfter = (ms: number, ..._deps: unknown[]): number => spin(ms);
/** A class with a method: its instances must keep it wherever they travel. */
export class Counter {
  constructor(public n = 0) {}
  inc(): Counter {
    return new Counter(this.n + 1);
  }
}
export const makeCounter = (n: number): Counter => new Counter(n);
export const bump = (c: Counter): Counter => c.inc();
export const describeCounter = (c: Counter): string => `${typeof c.inc} ${c instanceof Counter} ${c.n}`;
/** An instance of a class no module exports. */
export function makeHidden(): { n: number } {
  class Hidden {
    n = 1;
    twice(): number {
      return 2 * this.n;
    }
  }
  return new Hidden();
}
/** Kills the whole process it runs in (a worker process: its threads die with it). */
export function killOwnProcess(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}
/** Throws the first time it runs for `marker` (a file path), returns 'ok' after. */
export function failFirstTime(marker: string): string {
  if (!existsSync(marker)) {
    writeFileSync(marker, 'failed once');
    throw new Error(`first try of ${marker}`);
  }
  return 'ok';
}
/** The pid of the process a task runs in. */
export const pidOf = (..._deps: unknown[]): number => process.pid;
/** x + 1, or an error once x reaches `limit` (a chain that fails part way, every link the same function). */
export function incUpTo(x: number, limit: number): number {
  if (x >= limit) throw new Error(`${x} reached ${limit}`);
  return x + 1;
}
/** An environment variable of the process the task runs in. */
export const readEnv = (name: string): string | undefined => process.env[name];
/** x + 1 after about a millisecond of work. */
export function slowInc(x: number): number {
  spin(1);
  return x + 1;
}
/** About `ms` of work, then the pid it ran in. */
export function spinThenPid(ms: number): number {
  spin(ms);
  return process.pid;
}
/** `mb` megabytes filled with `i % 251`: a real allocation, for the memory tests. */
export const block = (i: number, mb: number): Uint8Array => new Uint8Array(mb * 1_000_000).fill(i % 251);
/** A block's first and last byte and its length. */
export const blockSum = (b: Uint8Array): number => b[0]! + b[b.length - 1]! + b.length;
/** Allocates `mb` megabytes, writes every byte, and holds them for `ms` before returning their length. */
export function hog(mb: number, ms: number): number {
  const held = new Uint8Array(mb * 1_000_000).fill(1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + ms;
  while (Date.now() < end) Atomics.wait(nap, 0, 0, 20);
  return held.length;
}
/** Busy for `ms` of arithmetic, then `x`. */
export const spinThen = (ms: number, x: number): number => {
  spin(ms);
  return x;
};
/** The process it runs in and an argument: what client.run and runOnScheduler report. */
export const tagWithPid = (tag: string): string => `${tag}:${process.pid}`;
/** Sleeps, then says which process ran it (a worker's pid, across the threads of its pool). */
export const napPid = async (ms: number): Promise<number> => {
  await sleep(ms);
  return process.pid;
};

/** The sum of every element of the arrays. */
export const arraySum = (...xs: Float64Array[]): number => xs.reduce((s, x) => s + x.reduce((a, b) => a + b, 0), 0);
/** Busy for `ms`, then the sum of the elements of `x` (what comes after is only waited for). */
export const spinSum = (ms: number, x: Float64Array, ..._after: unknown[]): number => {
  spin(ms);
  return arraySum(x);
};
/** How many typed arrays it was given, and their total length. */
export const countArrays = (...xs: unknown[]): string => {
  const arrays = xs.filter((x): x is Float64Array => x instanceof Float64Array);
  return `${arrays.length} arrays of ${arrays.reduce((n, x) => n + x.length, 0)}`;
};
/** Busy for `ms`, then an array of `n` ones. */
export const spinArray = (ms: number, n: number): Float64Array => {
  spin(ms);
  return bigArray(n);
};
/** Busy for `ms`, then its input itself. */
export const spinIdentity = <T>(ms: number, x: T): T => {
  spin(ms);
  return x;
};

/** Raises an error caused by another (`raise MyException("Foo") from MyException("Bar")`). */
export function failWithCause(): never {
  throw new Error('Foo', { cause: new RangeError('Bar', { cause: 'the root' }) });
}

/** An error class a module exports (Dask's test_exceptions_propagate). */
export class MyException extends Error {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super('My Exception!');
    this.name = 'MyException';
  }
}
export function raiseMine(a: number, b: number): never {
  throw new MyException(a, b);
}
/** Returns a function that closes over `n`: it cannot travel back from a worker. */
export const makeAdder = (n: number): ((x: number) => number) => (x: number) => x + n;
