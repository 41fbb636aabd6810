// skein/dataframe: partitions held by nodejs-polars, over the same schedulers. A CSV read in
// blocks gives every row once whatever the block size; groupby, filter, assign, valueCounts,
// merge, head, describe, toCsv give exact results on sync, threads and processes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { col, fromRecords, readCsv } from 'skein/dataframe';

let dir = '';
let csv = '';
const rows = Array.from({ length: 600 }, (_, i) => ({ id: i, category: `cat-${i % 3}`, value: (i % 7) + 0.5, flag: i % 2 }));
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skein-dataframe-'));
  csv = join(dir, 'data.csv');
  writeFileSync(csv, `id,category,value,flag\n${rows.map((r) => `${r.id},${r.category},${r.value},${r.flag}`).join('\n')}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What pandas would say: the mean of `value` per category, by hand. */
function meanBy(selected: typeof rows): Array<{ category: string; value: number }> {
  const groups = new Map<string, number[]>();
  for (const r of selected) groups.set(r.category, [...(groups.get(r.category) ?? []), r.value]);
  return [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([category, vs]) => ({ category, value: vs.reduce((a, b) => a + b, 0) / vs.length }));
}

for (const scheduler of ['sync', 'threads', 'processes'] as const) {
  describe(`dataframe: ${scheduler}`, () => {
    const o = { scheduler, numWorkers: 2 };

    it('groupby-means a CSV read in blocks, exactly as computed by hand', async () => {
      const df = await readCsv(csv, { blocksize: 2000 });
      assert.ok(df.npartitions >= 5, `${df.npartitions} partitions`);
      const means = (await df.groupby('category').mean('value').compute(o)).toRecords();
      assert.deepEqual(means.map((r) => ({ ...r, value: Number((r.value as number).toFixed(9)) })), meanBy(rows).map((r) => ({ ...r, value: Number(r.value.toFixed(9)) })));
    });

    it('filters, assigns, aggregates several ways, counts values, merges, heads, describes and writes CSV', async () => {
      const df = await readCsv(csv, { blocksize: 2000 });
      const odd = df.filter(col('flag').eq(1)).assign({ double: col('value').mul(2) });
      const agg = (await odd.groupby('category').agg({ double: ['sum', 'count'], id: 'max' }).compute(o)).toRecords();
      const picked = rows.filter((r) => r.flag === 1);
      assert.deepEqual(agg, ['cat-0', 'cat-1', 'cat-2'].map((c) => {
        const g = picked.filter((r) => r.category === c);
        return { category: c, double_sum: g.reduce((a, r) => a + 2 * r.value, 0), double_count: g.length, id: Math.max(...g.map((r) => r.id)) };
      }));
      assert.deepEqual((await df.filter(col('id').lt(10)).valueCounts('category').compute(o)).toRecords(), [{ category: 'cat-0', count: 4 }, { category: 'cat-1', count: 3 }, { category: 'cat-2', count: 3 }]);
      const labels = fromRecords([{ category: 'cat-0', label: 'zero' }, { category: 'cat-2', label: 'two' }], { npartitions: 2 });
      const merged = await df.merge(labels, { on: 'category' }).groupby('label').count('id').compute(o);
      assert.deepEqual(merged.toRecords(), [{ label: 'two', id: 200 }, { label: 'zero', id: 200 }]);
      assert.deepEqual((await df.select('id', 'value').head(2).compute(o)).toRecords(), [{ id: 0, value: 0.5 }, { id: 1, value: 1.5 }]);
      const stats = (await df.describe().compute(o)).toRecords();
      assert.deepEqual(stats.map((r) => r.statistic), ['count', 'mean', 'std', 'min', 'max']);
      assert.deepEqual(stats.map((r) => r.id), [600, 299.5, stats[2]!.id, 0, 599]);
      assert.equal(Number((stats[2]!.id as number).toFixed(6)), Number(Math.sqrt(rows.reduce((a, r) => a + (r.id - 299.5) ** 2, 0) / 599).toFixed(6)));
      const paths = await df.filter(col('id').lt(3)).select('id', 'category').toCsv(join(dir, scheduler, 'part-*.csv')).compute(o);
      assert.equal(readFileSync(paths[0]!, 'utf8'), 'id,category\n0,cat-0\n1,cat-1\n2,cat-2\n');
      assert.equal((await df.compute(o)).height, 600);
    });
  });
}

describe('dataframe', () => {
  it('reads every row once, whatever the block size, with the types of the first block', async () => {
    for (const blocksize of [1, 7, 20, 64, 333, 1000, 4096, 100_000]) {
      const frame = await (await readCsv(csv, { blocksize })).compute({ scheduler: 'sync' });
      assert.equal(frame.height, 600, `blocksize ${blocksize}`);
      assert.deepEqual(frame.column('id'), rows.map((r) => r.id), `blocksize ${blocksize}`);
      assert.deepEqual(frame.columns, ['id', 'category', 'value', 'flag']);
    }
    // a block of whole numbers in a column of decimals stays a decimal column
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(mixed, 'a,b\n1,0.5\n2,1\n3,2\n');
    const frame = await (await readCsv(mixed, { blocksize: 4 })).compute({ scheduler: 'sync' });
    assert.deepEqual(frame.toRecords(), [{ a: 1, b: 0.5 }, { a: 2, b: 1 }, { a: 3, b: 2 }]);
    await assert.rejects(readCsv(join(dir, '*.tsv')), { message: `readCsv(${JSON.stringify(join(dir, '*.tsv'))}): no file matches` });
  });

  it('takes plain records and gives them back, whatever holds them', async () => {
    const records = [{ name: 'ada', born: 1815 }, { name: 'alan', born: 1912 }, { name: 'grace', born: 1906 }];
    const df = fromRecords(records, { npartitions: 2 });
    assert.equal(df.npartitions, 2);
    assert.deepEqual((await df.compute({ scheduler: 'threads' })).toRecords(), records);
    assert.deepEqual((await df.filter(col('born').gt(1900)).compute({ scheduler: 'threads' })).column('name'), ['alan', 'grace']);
  });

  it('names its tasks <op>-<token>-<i>', async () => {
    const df = await readCsv(csv, { blocksize: 4000 });
    assert.match(df.keys[0]!, /^read-csv-[0-9a-f]{16}-0$/);
    assert.match(df.filter(col('id').gt(1)).keys[1]!, /^filter-[0-9a-f]{16}-1$/);
    assert.match(df.groupby('category').mean('value').key, /^groupby-[0-9a-f]{16}$/);
  });
});
