/**
 * Waiting on many futures: `wait` (all, the first, or the first error, with a time limit) and
 * `asCompleted` (each future as it settles, in the order they settle, taking more while it runs).
 */
import { SkeinError } from '../errors.js';
import type { Future } from './client.js';

export type ReturnWhen = 'ALL_COMPLETED' | 'FIRST_COMPLETED' | 'FIRST_EXCEPTION';

/** Resolves when `returnWhen` holds: the futures done and not done. Rejects after `timeout` ms. */
export async function wait(futures: Iterable<Future>, options: { timeout?: number; returnWhen?: ReturnWhen } = {}): Promise<{ done: Set<Future>; notDone: Set<Future> }> {
  const all = [...futures];
  const returnWhen = options.returnWhen ?? 'ALL_COMPLETED';
  const done = new Set<Future>();
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    if (all.length === 0) return resolve();
    if (options.timeout !== undefined) {
      timer = setTimeout(() => reject(new SkeinError('TIMEOUT', `wait(): ${all.length - done.size} of ${all.length} futures not done after ${options.timeout} ms.`)), options.timeout);
    }
    for (const f of all) {
      void f.client.settledKey(f.key).then(() => {
        done.add(f);
        const failed = f.status === 'error';
        if (returnWhen === 'FIRST_COMPLETED' || (returnWhen === 'FIRST_EXCEPTION' && failed) || done.size === all.length) resolve();
      });
    }
  }).finally(() => clearTimeout(timer));
  return { done: new Set(done), notDone: new Set(all.filter((f) => !done.has(f))) };
}

/** An async iterator over futures in the order they finish (or fail); `add` takes more while iterating. */
export class AsCompleted implements AsyncIterableIterator<Future> {
  readonly #ready: Future[] = [];
  #pending = 0;
  #wake: (() => void) | undefined;

  constructor(futures: Iterable<Future> = []) {
    for (const f of futures) this.add(f);
  }

  add(future: Future): void {
    this.#pending++;
    void future.client.settledKey(future.key).then(() => {
      this.#pending--;
      this.#ready.push(future);
      this.#wake?.();
    });
  }

  /** Futures not yet handed out. */
  get count(): number {
    return this.#pending + this.#ready.length;
  }

  async next(): Promise<IteratorResult<Future>> {
    while (this.#ready.length === 0) {
      if (this.#pending === 0) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    return { done: false, value: this.#ready.shift()! };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Future> {
    return this;
  }
}

export function asCompleted(futures: Iterable<Future> = []): AsCompleted {
  return new AsCompleted(futures);
}
