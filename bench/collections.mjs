// `npm run bench`, collections part: the guide's collection workloads, Skein beside Dask in the
// same run (Debian's python3-dask, when installed). Each measurement runs in a fresh process that
// computes twice: the first call (pool start included) and the second are reported, and the peak
// memory of the process and its workers (the sum of their resident sizes, sampled every 50 ms).
// - the mean of a 10,000 × 10,000 random array in 1,000 × 1,000 blocks (800 MB were it whole):
//   skein/array and Dask's array, on threads (the default for both);
// - the mean of x + y, two such arrays: the blocks of one of them cross from the thread that made
//   them to the thread that adds (under threads, lent: moved, not copied);
// - groupby-mean over a 5,000,000-row CSV (126 MB, generated here) with skein/dataframe (polars
//   partitions, blocks of 64 MB) on threads and processes; Dask: dd.read_csv(..., blocksize='64MB')
//   .groupby('category').value.mean() on threads and processes;
// - word frequencies over 200 MB of text (8 files, generated here, deterministic) with bag:
//   readText(glob, {blocksize: '16MB'}).map(split).flatten().frequencies(), on processes and threads;
//   Dask: db.read_text(...).str.split().flatten().frequencies() on processes and threads.
// Usage: node bench/collections.mjs [--mb 200]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const MB = argv.includes('--mb') ? Number(argv[argv.indexOf('--mb') + 1]) : 200;
const DEBIAN_PYTHON = '/usr/bin/python3';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skein-bench-collections-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** The resident memory (bytes) of `pid` and its descendants. */
function treeRss(pid) {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' }).stdout.trim().split('\n').map((r) => r.trim().split(/\s+/).map(Number));
  const tree = new Set([pid]);
  let total = 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (const [p, pp] of rows) if (tree.has(pp) && !tree.has(p)) (tree.add(p), (changed = true));
  }
  for (const [p, , rss] of rows) if (tree.has(p)) total += rss * 1024;
  return total;
}

/** Runs `command`; its last stdout line is JSON. Resolves to that, with the peak memory of its process tree. */
function measure(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid))), 50);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      resolve({ ...JSON.parse(out.trim().split('\n').at(-1)), peakMb: peak / 1e6 });
    });
  });
}

const daskOk = existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', 'import dask.bag, dask.array, dask.dataframe'], { stdio: 'ignore' }).status === 0;
if (!daskOk) process.stdout.write('baseline   Dask: not measured (Debian\'s python3-dask, numpy and pandas are not installed: apt-get install python3-dask python3-pandas)\n');
const show = (what, name, r, base, extra) => process.stdout.write(`${what}  ${name.padEnd(20)} first ${String(Math.round(r.firstMs)).padStart(6)} ms, second ${String(Math.round(r.secondMs)).padStart(6)} ms, peak memory ${Math.round(r.peakMb)} MB${extra}${base ? `; ${(r.secondMs / base.secondMs).toFixed(2)}x Dask (second calls)` : ''}\n`);

for (const [workload, what] of [['mean', 'array mean 10,000²'], ['sum', 'mean of x + y     ']]) {
  const arrays = [];
  for (const scheduler of ['threads', 'processes']) arrays.push([`skein array ${scheduler}`, await measure(process.execPath, [here('./collections/arraymean.mjs'), scheduler, workload])]);
  if (daskOk) arrays.push(['Dask array threads', await measure(DEBIAN_PYTHON, [here('./collections/arraymean.py'), 'threads', workload])]);
  const daskArray = arrays.find(([name]) => name.startsWith('Dask'))?.[1];
  for (const [name, r] of arrays) show(what, name, r, daskArray, `, mean ${r.mean.toFixed(5)}`);
}

const csv = join(dir, 'rows.csv');
spawnSync(process.execPath, [here('./collections/csv.mjs'), csv, '5000000'], { stdio: 'inherit' });
const frames = [];
for (const scheduler of ['threads', 'processes']) frames.push([`skein dataframe ${scheduler}`, await measure(process.execPath, [here('./collections/groupby.mjs'), csv, scheduler])]);
if (daskOk) for (const scheduler of ['threads', 'processes']) frames.push([`Dask dataframe ${scheduler}`, await measure(DEBIAN_PYTHON, [here('./collections/groupby.py'), csv, scheduler])]);
const daskFrame = frames.find(([name]) => name === 'Dask dataframe threads')?.[1];
for (const [name, r] of frames) show('groupby-mean 5M rows', name, r, daskFrame, `, ${r.groups} groups`);
rmSync(csv, { force: true });

process.stdout.write(`collections: generating ${MB} MB of text…\n`);
const gen = spawnSync(process.execPath, [here('./collections/text.mjs'), dir, String(MB), '8'], { stdio: 'inherit' });
if (gen.status !== 0) process.exit(1);
const glob = join(dir, '*.txt');

const rows = [];
for (const scheduler of ['processes', 'threads']) {
  const r = await measure(process.execPath, [here('./collections/wordcount.mjs'), glob, scheduler]);
  rows.push([`skein bag ${scheduler}`, r]);
}
if (daskOk) {
  for (const scheduler of ['processes', 'threads']) rows.push([`Dask bag ${scheduler}`, await measure(DEBIAN_PYTHON, [here('./collections/wordcount.py'), glob, scheduler])]);
}

const daskProcesses = rows.find(([name]) => name === 'Dask bag processes')?.[1];
for (const [name, r] of rows) {
  const ratio = daskProcesses ? `; ${(r.secondMs / daskProcesses.secondMs).toFixed(2)}x Dask bag processes (second calls)` : '';
  process.stdout.write(`word frequencies ${MB} MB  ${name.padEnd(20)} first ${String(Math.round(r.firstMs)).padStart(6)} ms, second ${String(Math.round(r.secondMs)).padStart(6)} ms, peak memory ${Math.round(r.peakMb)} MB, ${r.words} distinct words${ratio}\n`);
}
process.stdout.write(`\n${cpus().length} CPUs, ${availableParallelism()} available, Node ${process.version}; each line a fresh process computing twice\n`);
