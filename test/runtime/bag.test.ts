// skein/bag: Dask's bag over the same schedulers. Every operation's exact result on sync,
// threads and processes; text read in blocks gives each line once whatever the block size;
// keys read as `<op>-<token>-<i>`; a lambda that captures a variable is refused before any task.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bag, fromSequence, readText } from 'skein/bag';
import { Client } from 'skein/distributed';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skein-bag-'));
  writeFileSync(join(dir, 'a.txt'), 'the cat sat\non the mat\nthe end\n');
  writeFileSync(join(dir, 'b.txt'), 'a cat\r\nthe dog\r\nnaïve café\n¿qué? the');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sortPairs = <K, V>(pairs: Array<[K, V]>) => [...pairs].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

for (const scheduler of ['sync', 'threads', 'processes'] as const) {
  describe(`bag: ${scheduler}`, () => {
    const opts = { scheduler, numWorkers: 2 };

    it('counts words in text files read in blocks: map, flatten, frequencies, count, topk', async () => {
      const lines = await readText(join(dir, '*.txt'), { blocksize: 12 });
      assert.ok(lines.npartitions > 2, `${lines.npartitions} partitions`);
      const words = lines.map((line) => line.split(' ')).flatten();
      assert.deepEqual(sortPairs(await words.frequencies().compute(opts)), [['¿qué?', 1], ['a', 1], ['café', 1], ['cat', 2], ['dog', 1], ['end', 1], ['mat', 1], ['naïve', 1], ['on', 1], ['sat', 1], ['the', 5]]);
      assert.equal(await words.count().compute(opts), 16);
      assert.deepEqual(await words.map((w) => w.length).topk(2).compute(opts), [5, 5]);
    });

    it('maps, filters, plucks and reduces numbers and records', async () => {
      const b = fromSequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { npartitions: 3 });
      assert.deepEqual(await b.map((x) => x * x).filter((x) => x % 2 === 1).compute(opts), [1, 9, 25, 49, 81]);
      assert.equal(await b.sum().compute(opts), 55);
      assert.deepEqual(await b.topk(3).compute(opts), [10, 9, 8]);
      assert.deepEqual(await b.topk(2, (x) => -x).compute(opts), [1, 2]);
      assert.deepEqual(await fromSequence([3, 1, 3, 2, 1], { npartitions: 2 }).distinct().compute(opts), [3, 1, 2]);
      assert.deepEqual(sortPairs(await b.foldby((x) => x % 3, (acc: number, x) => acc + x, 0).compute(opts)), [[0, 18], [1, 22], [2, 15]]);
      assert.deepEqual(sortPairs(await b.groupby((x) => (x % 2 === 0 ? 'even' : 'odd')).compute(opts)), [['even', [2, 4, 6, 8, 10]], ['odd', [1, 3, 5, 7, 9]]]);
      assert.deepEqual(await b.reduction((p) => p.length, (ps) => ps.join('+')).compute(opts), '4+4+2');
      assert.deepEqual(await b.mapPartitions((p) => [p.reduce((s, x) => s + x, 0)]).compute(opts), [10, 26, 19]);
      const people = fromSequence([{ name: 'ada', born: 1815 }, { name: 'alan', born: 1912 }]);
      assert.deepEqual(await people.pluck('name').compute(opts), ['ada', 'alan']);
      assert.deepEqual(await b.count().apply((n) => n * 2).compute(opts), 20);
    });

    it('writes each partition to a file, one item a line', async () => {
      const out = join(dir, scheduler, 'part-*.txt');
      const paths = await fromSequence(['a', 'b', 'c'], { npartitions: 2 }).toTextFiles(out).compute(opts);
      assert.deepEqual(paths, [join(dir, scheduler, 'part-0.txt'), join(dir, scheduler, 'part-1.txt')]);
      assert.deepEqual(paths.map((p) => readFileSync(p, 'utf8')), ['a\nb\n', 'c\n']);
    });
  });
}

describe('bag: distributed', () => {
  let client: Client;
  before(async () => {
    client = new Client({ nWorkers: 2, threadsPerWorker: 1 });
    await client.ready;
  });
  after(() => client.close());

  it('counts words and groups numbers on a local cluster, the lambdas sent by their source', async () => {
    const words = (await readText(join(dir, '*.txt'), { blocksize: 12 })).map((line) => line.split(' ')).flatten();
    const opts = { scheduler: 'distributed' } as const;
    assert.deepEqual((await words.frequencies().compute(opts)).find(([w]) => w === 'the'), ['the', 5]);
    assert.equal(await words.count().compute(opts), 16);
    const b = fromSequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { npartitions: 3 });
    assert.deepEqual(sortPairs(await b.groupby((x) => x % 3, { npartitions: 2 }).compute(opts)), [[0, [3, 6, 9]], [1, [1, 4, 7, 10]], [2, [2, 5, 8]]]);
    // the tasks ran on the cluster, under their keys
    const stream = await client.getTaskStream();
    assert.ok(stream.some((e) => /^frequencies-part-[0-9a-f]{16}-\d+$/.test(e.key)), stream.map((e) => e.key).join(' '));
  });
});

describe('bag', () => {
  it('reads every line once, without its line ending, whatever the block size', async () => {
    const text = 'alpha\nbeta\r\n\ngamma délta\nε\n' + 'x'.repeat(40) + '\nlast line without newline';
    const file = join(dir, 'lines.txt');
    writeFileSync(file, text);
    const expected = text.split('\n').map((l) => l.replace(/\r$/, ''));
    for (let blocksize = 1; blocksize <= text.length + 1; blocksize++) {
      const bag = await readText(file, { blocksize });
      assert.deepEqual(await bag.compute({ scheduler: 'sync' }), expected, `blocksize ${blocksize}`);
    }
    assert.equal((await readText(file, { blocksize: '16B' })).npartitions, Math.ceil(Buffer.byteLength(text) / 16));
    assert.equal((await readText(file)).npartitions, 1);
    await assert.rejects(readText(join(dir, '*.csv')), { message: `readText(${JSON.stringify(join(dir, '*.csv'))}): no file matches` });
  });

  it('names its tasks <op>-<token>-<i>, after the function when it has a name', () => {
    const b = fromSequence([1, 2, 3], { npartitions: 3 });
    const square = (x: number) => x * x;
    const keys = (bag: Bag<unknown>) => bag.keys;
    assert.match(keys(b)[0]!, /^from-sequence-[0-9a-f]{16}-0$/);
    assert.deepEqual(keys(b.map(square)).map((k) => k.replace(/[0-9a-f]{16}/, 'T')), ['map-square-T-0', 'map-square-T-1', 'map-square-T-2']);
    assert.match(keys(b.map((x) => x + 1))[2]!, /^map-[0-9a-f]{16}-2$/);
    assert.match(b.count().key, /^count-[0-9a-f]{16}$/);
    // the same operation twice is the same keys (Dask's tokens)
    assert.deepEqual(keys(b.map(square)), keys(b.map(square)));
  });

  it('keeps data as data: a string item that names a key is not read as a dependency', async () => {
    const b = fromSequence(['x'], { npartitions: 1 });
    const again = fromSequence([b.keys[0]!]);
    assert.deepEqual(await again.compute({ scheduler: 'threads' }), [b.keys[0]]);
  });

  it('refuses a lambda that captures a variable before any task starts, naming it', async () => {
    const stop = new Set(['the']);
    const words = fromSequence(['the cat', 'the dog']).map((l) => l.split(' ')).flatten();
    const keep = (w: string) => !stop.has(w);
    await assert.rejects(words.filter(keep).compute({ scheduler: 'threads' }), { name: 'SkeinError', message: /^Task "filter-keep-[0-9a-f]{16}-0" uses keep, which closes over `stop`: threads workers get / });
    // passed as data instead, it works
    assert.deepEqual(await words.filter((w) => w !== 'the').compute({ scheduler: 'threads' }), ['cat', 'dog']);
  });
});
