// Which functions travel by their source (loader/lambda.ts): the free variables of a function,
// found by parsing it, decide; compiled in a worker, the source is the same function.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtInFunction, builtInPath, functionFromSource, sourceVerdict } from '../../runtime/loader/lambda.js';

const captures = async (fn: Function): Promise<readonly string[]> => {
  const v = await sourceVerdict(fn);
  return 'captures' in v ? v.captures : [];
};
const travels = async (fn: Function): Promise<boolean> => 'source' in (await sourceVerdict(fn));

describe('functions by their source', () => {
  it('takes a function that uses only its parameters, its own locals and the globals every worker has', async () => {
    assert.ok(await travels((line: string) => line.split(' ')));
    assert.ok(await travels((b: number[]) => b.map(Math.sqrt)));
    assert.ok(await travels(({ a, b: [c = 0, ...rest] }: { a: number; b: number[] }, d = a + c) => a + c + d + rest.length));
    assert.ok(await travels(function (this: unknown, x: number) {
      let total = 0;
      for (const y of [x, x]) total += y;
      try {
        JSON.parse('{');
      } catch (error) {
        total += String(error).length > 0 ? 1 : 0;
      }
      class Box {
        constructor(readonly v: number) {}
      }
      return new Box(total).v + arguments.length;
    }));
    assert.ok(await travels(async (url: string) => (await fetch(url)).status));
    assert.ok(await travels((n: number) => Buffer.alloc(n).length + new TextEncoder().encode('x').length + performance.now() * 0));
  });

  it('names each variable a function closes over: a local, an import, a module constant, one used only in a default', async () => {
    const k = 3;
    const m = new Map<string, number>();
    assert.deepEqual(await captures((x: number) => x * k), ['k']);
    assert.deepEqual(await captures((x: string) => m.get(x) ?? captures.length), ['m', 'captures']);
    assert.deepEqual(await captures((x: number, y = k) => x + y), ['k']);
    // shadowed names are the function's own
    assert.deepEqual(await captures((k: number) => { const m = k; return m; }), []);
    assert.ok(await travels((k: number) => { const m = k; return m; }));
  });

  it('does not take a native, bound or class function (no source to send)', async () => {
    assert.deepEqual(await sourceVerdict(Math.max), { captures: [] });
    assert.deepEqual(await sourceVerdict(((x: number) => x).bind(null)), { captures: [] });
    assert.deepEqual(await sourceVerdict(class A {}), { captures: [] });
  });

  it('compiles what it took into the same function: arrows, function expressions, method shorthand, async', async () => {
    const shorthand = { twice(x: number) { return 2 * x; }, async later(x: number) { return x + 1; } };
    for (const [fn, arg, expected] of [[(s: string) => s.toUpperCase(), 'ab', 'AB'], [function named(x: number) { return x - 1; }, 5, 4], [shorthand.twice, 4, 8]] as const) {
      const v = await sourceVerdict(fn as Function);
      assert.ok('source' in v, String(fn));
      assert.equal((functionFromSource(v.source) as (a: unknown) => unknown)(arg), expected);
    }
    const later = await sourceVerdict(shorthand.later);
    assert.ok('source' in later);
    assert.equal(await (functionFromSource(later.source) as (x: number) => Promise<number>)(1), 2);
  });

  it('sends built-ins by their path from the global object', () => {
    assert.deepEqual([Math.sqrt, Number, Boolean, JSON.stringify, Object.keys, parseInt].map((f) => builtInPath(f)), ['Math.sqrt', 'Number', 'Boolean', 'JSON.stringify', 'Object.keys', 'parseInt']);
    assert.equal(builtInFunction('Math.sqrt'), Math.sqrt);
    assert.equal(builtInPath((x: number) => x), undefined);
  });
});
