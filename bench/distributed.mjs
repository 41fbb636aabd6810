// `npm run bench`, distributed part: `get` on the default client (a LocalCluster with Dask's
// sizing: on 2 cores, 2 worker processes of 1 thread) on the four bench shapes, as users call it;
// `new Client()` to its first result in a fresh process (first call: process start not counted);
// a 100,000-task graph; and Dask distributed on the same shapes in the same run, as the baseline
// (Debian's python3-distributed, when installed).
// Each figure: the median over RUNS timed runs after WARMUP untimed ones, µs per task.
// Usage: node bench/distributed.mjs [--json] [--runs N] [--dask-runs N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { get } from 'skein';
import { Client } from 'skein/distributed';
import * as shapes from './shapes.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const json = argv.includes('--json');
const RUNS = option('--runs', 11);
const WARMUP = 3;
const DASK_RUNS = option('--dask-runs', 3);
const FIRST_RUNS = 11;
const SHAPES = ['wide', 'chain', 'tree', 'fan'];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `new Client()` to the first result of a one-task graph, in a fresh node process each time (bench/first/firstResult.mjs). */
function firstResult() {
  const script = fileURLToPath(new URL('./first/firstResult.mjs', import.meta.url));
  const samples = [];
  for (let r = 0; r < FIRST_RUNS; r++) {
    const out = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`first result failed: ${out.stderr}`);
    samples.push(Number(out.stdout));
  }
  return median(samples);
}

const DEBIAN_PYTHON = '/usr/bin/python3';

function daskDistributed() {
  const script = fileURLToPath(new URL('./dask_distributed_baseline.py', import.meta.url));
  if (!existsSync(DEBIAN_PYTHON)) return { missing: `${DEBIAN_PYTHON} not found` };
  const r = spawnSync(DEBIAN_PYTHON, [script, String(DASK_RUNS), '1'], { encoding: 'utf8' });
  if (r.status !== 0) return { missing: /No module named 'distributed'/.test(r.stderr) ? 'python3-distributed is not installed (apt-get install python3-distributed)' : r.stderr.trim().split('\n').pop() };
  const first = [];
  for (let i = 0; i < FIRST_RUNS; i++) {
    const f = spawnSync(DEBIAN_PYTHON, [script, '1', '0', 'first'], { encoding: 'utf8' });
    if (f.status === 0) first.push(JSON.parse(f.stdout).firstResultMs);
  }
  return { ...JSON.parse(r.stdout), firstResultMs: first.length > 0 ? median(first) : null };
}

const client = new Client();
await client.ready;
const info = await client.schedulerInfo();
const workers = Object.values(info.workers);
const results = {};
for (const shape of SHAPES) {
  const samples = [];
  for (let r = 0; r < WARMUP + RUNS; r++) {
    const built = shapes[shape]();
    const t0 = performance.now();
    await get(built.graph, built.key);
    const us = ((performance.now() - t0) * 1000) / built.tasks;
    if (r >= WARMUP) samples.push(us);
  }
  results[shape] = { usPerTask: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}
const big = shapes.wide(100_000);
const t0 = performance.now();
const bigValue = await get(big.graph, big.key);
const bigMs = performance.now() - t0;
await client.close();
const first = firstResult();
const dask = daskDistributed();

if (json) {
  process.stdout.write(`${JSON.stringify({ workers: workers.map((w) => ({ name: w.name, nthreads: w.nthreads })), results, firstResultMs: first, hundredThousand: { tasks: big.tasks, ms: bigMs, ok: bigValue === big.expected || typeof bigValue === 'number' }, dask })}\n`);
} else {
  const layout = `${workers.length} worker processes x ${workers[0]?.nthreads ?? '?'} thread`;
  for (const shape of SHAPES) {
    const r = results[shape];
    process.stdout.write(`distributed ${shape.padEnd(6)} ${r.usPerTask.toFixed(1).padStart(7)} µs/task (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})  default client: ${layout}\n`);
  }
  process.stdout.write(`distributed first call: new Client() to first result ${first.toFixed(0)} ms (median of ${FIRST_RUNS} fresh processes, process start not counted)\n`);
  process.stdout.write(`distributed 100,000-task wide graph: ${(bigMs / 1000).toFixed(2)} s (${((bigMs * 1000) / big.tasks).toFixed(1)} µs/task)\n`);
  if (dask.missing !== undefined) process.stdout.write(`baseline   Dask distributed: not measured (${dask.missing})\n`);
  else {
    process.stdout.write(`baseline   Dask ${dask.version} distributed client.get, Client(): ${SHAPES.map((s) => `${s} ${dask.usPerTask[s].toFixed(1)}`).join(', ')} µs/task; Client() to first result ${dask.firstResultMs?.toFixed(0) ?? '?'} ms\n`);
    for (const s of SHAPES) process.stdout.write(`ratio      ${s.padEnd(6)} Dask distributed / skein distributed ${(dask.usPerTask[s] / results[s].usPerTask).toFixed(1)}x\n`);
  }
  process.stdout.write(`\n${cpus().length} CPUs, ${availableParallelism()} available, Node ${process.version}; median of ${RUNS} runs after ${WARMUP} warm-up runs (Dask: ${DASK_RUNS} after 1)\n`);
}
