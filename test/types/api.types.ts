// Type expectations for the public API, checked by `tsc` in `npm test` (the typecheck step): each
// `@ts-expect-error` line must be an error, and every other line must type-check. Never run.
import { compute, config, delayed, get, withConfig, type Delayed } from 'skein';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof: T): void => undefined;

const inc = (x: number): number => x + 1;
const b: Delayed<number> = delayed(inc)(1);

export async function expectations(): Promise<void> {
  // compute gives values, also inside objects and arrays, with the options left out
  const [obj] = await compute({ k: b });
  expectType<Equal<typeof obj, { k: number }>>(true);
  const [x, list, text] = await compute(b, [b, b], 'plain', { scheduler: 'sync' });
  expectType<Equal<typeof x, number>>(true);
  expectType<Equal<typeof list, [number, number]>>(true);
  expectType<Equal<typeof text, 'plain'>>(true);
  const all = await compute(b, { scheduler: 'threads', numWorkers: 2 });
  expectType<Equal<typeof all, [number]>>(true);

  // @ts-expect-error a misspelled scheduler name in options
  await compute(b, { scheduler: 'thread' });
  // @ts-expect-error a misspelled scheduler name in get's options
  await get({ x: 1 }, 'x', { scheduler: 'proceses' });
  // Dask's scheduler names are configuration values too (issue 29, item 13)
  config.set({ scheduler: 'synchronous' }).dispose();
  config.set({ scheduler: 'threading' }).dispose();
  // @ts-expect-error an unknown config key
  config.set({ numWorker: 2 });
  // @ts-expect-error a config value of the wrong type
  config.set({ taskTimeoutMs: '5s' });
  // @ts-expect-error an unknown key in withConfig
  withConfig({ schedular: 'sync' }, () => undefined);
  config.set({ scheduler: 'sync', batching: { maxTasks: 64 } }).dispose();
  // @ts-expect-error keys must be strings or arrays of them
  await get({ x: 1 }, { x: 1 });
}
