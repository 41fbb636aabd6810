// `npm run bench`: per-task scheduling overhead on four shapes of trivial tasks, on the path
// users take: `get(graph, key, {scheduler})` with default options, so the default pool warm
// from earlier calls, as Dask's threaded scheduler keeps its pool.
//
// Each figure is the median over RUNS timed runs (after WARMUP untimed ones) of the wall time of
// one `get` call divided by the number of tasks; graph construction is not timed. The first call
// of a process (which starts the default pool) is reported on its own line. In the same run it
// measures the baselines: Dask's threaded `get` on the same shapes (Debian's python3-dask, when
// installed), piscina with one call per task, a raw worker_threads postMessage loop; and
// `skein run` on a CPU-bound graph file (16 tasks of ~45 ms): the run's elapsedMs, pool start
// included, as speedup over sync, and when the first task started.
// Usage: node bench/run.mjs [--json] [--runs N] [--schedulers sync,threads,processes]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Recorder, closeDefaultPools, get } from 'skein';
import * as shapes from './shapes.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const json = argv.includes('--json');
const RUNS = Number(option('--runs', '21'));
const WARMUP = 10;
const schedulers = option('--schedulers', 'sync,threads,processes').split(',');
const NUM_WORKERS = availableParallelism();
const SHAPES = ['wide', 'chain', 'tree', 'fan'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One timed `get` of a fresh copy of `shape`: µs per task. */
async function timeOnce(shape, options, recording) {
  const built = shapes[shape]();
  // recording: per-task phase timestamps and resource sampling, as `skein run --record` does
  const callbacks = recording ? [new Recorder()] : [];
  const t0 = performance.now();
  await get(built.graph, built.key, { ...options, callbacks });
  return { us: ((performance.now() - t0) * 1000) / built.tasks, tasks: built.tasks };
}

/**
 * Times `shape` with recording off and on, alternating runs (off, on, off, on, ...) so drift of
 * a noisy machine hits both alike; the recording cost is the median of the per-pair ratios.
 */
async function timeShape(shape, options) {
  const off = [];
  const on = [];
  const ratios = [];
  let tasks = 0;
  for (let r = 0; r < WARMUP + RUNS; r++) {
    const a = await timeOnce(shape, options, false);
    const b = await timeOnce(shape, options, true);
    tasks = a.tasks;
    if (r < WARMUP) continue;
    off.push(a.us);
    on.push(b.us);
    ratios.push(b.us / a.us);
  }
  return { tasks, usPerTask: median(off), min: Math.min(...off), max: Math.max(...off), recordingUsPerTask: median(on), recordingRatio: median(ratios) };
}

/** The first `get` of a process on `shape` (the default pool starts): µs per task and ms. */
async function timeFirst(shape, options) {
  await closeDefaultPools();
  const built = shapes[shape]();
  const t0 = performance.now();
  await get(built.graph, built.key, options);
  const ms = performance.now() - t0;
  return { ms, usPerTask: (ms * 1000) / built.tasks };
}

async function medianOf(fn, runs = RUNS) {
  const samples = [];
  for (let r = 0; r < WARMUP + runs; r++) {
    const v = await fn();
    if (r >= WARMUP) samples.push(v);
  }
  return median(samples);
}

/** piscina, one pool.run per task, all submitted at once: µs per task. */
async function piscinaBaseline(n = 10_000) {
  const pool = new Piscina({ filename: new URL('./baselineWorker.mjs', import.meta.url).href, minThreads: NUM_WORKERS, maxThreads: NUM_WORKERS });
  const us = await medianOf(async () => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i)));
    return ((performance.now() - t0) * 1000) / n;
  });
  await pool.destroy();
  return us;
}

/** One worker thread, n messages posted and n replies awaited: µs per message round trip. */
async function postMessageBaseline(n = 10_000) {
  const worker = new Worker(new URL('./baselineWorker.mjs', import.meta.url));
  const us = await medianOf(
    () =>
      new Promise((resolve) => {
        let left = n;
        const t0 = performance.now();
        const onMessage = () => {
          if (--left === 0) {
            worker.off('message', onMessage);
            resolve(((performance.now() - t0) * 1000) / n);
          }
        };
        worker.on('message', onMessage);
        for (let i = 0; i < n; i++) worker.postMessage(i);
      }),
  );
  await worker.terminate();
  return us;
}

const DEBIAN_PYTHON = '/usr/bin/python3';

/** Dask's threaded get on the same shapes, or why it could not be measured. */
function daskBaseline() {
  const script = fileURLToPath(new URL('./dask_baseline.py', import.meta.url));
  if (!existsSync(DEBIAN_PYTHON)) return { missing: `${DEBIAN_PYTHON} not found` };
  const r = spawnSync(DEBIAN_PYTHON, [script, String(RUNS), String(WARMUP)], { encoding: 'utf8' });
  if (r.status !== 0) return { missing: /No module named 'dask'/.test(r.stderr) ? 'python3-dask is not installed (apt-get install python3-dask)' : r.stderr.trim().split('\n').pop() };
  return JSON.parse(r.stdout);
}

const CLI_RUNS = 11;

/** `skein run bench/cpu.graph.mjs` as a user runs it: median elapsedMs and first task start. */
function cliCpuBound(scheduler) {
  const dir = mkdtempSync(join(tmpdir(), 'skein-bench-'));
  const bin = fileURLToPath(new URL('../bin/skein.js', import.meta.url));
  const graph = fileURLToPath(new URL('./cpu.graph.mjs', import.meta.url));
  const elapsed = [];
  const firstStart = [];
  try {
    for (let r = 0; r < CLI_RUNS; r++) {
      const record = join(dir, `run-${r}.skein.json`);
      const out = spawnSync(process.execPath, [bin, 'run', graph, '--scheduler', scheduler, '--json', '--record', record], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`skein run failed: ${out.stderr}`);
      elapsed.push(JSON.parse(out.stdout).elapsedMs);
      const rec = JSON.parse(readFileSync(record, 'utf8'));
      firstStart.push(Math.min(...rec.tasks.started) - rec.run.startedAt);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { elapsedMs: median(elapsed), firstTaskStartMs: median(firstStart) };
}

const results = [];
const firstCalls = {};
for (const scheduler of schedulers) {
  if (scheduler !== 'sync') firstCalls[scheduler] = await timeFirst('wide', { scheduler });
  for (const shape of SHAPES) {
    const r = await timeShape(shape, { scheduler });
    results.push({ scheduler, shape, ...r });
    if (!json) {
      process.stdout.write(
        `${scheduler.padEnd(10)} ${shape.padEnd(6)} ${String(r.tasks).padStart(6)} tasks  ${r.usPerTask.toFixed(2).padStart(7)} µs/task (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})  recording ${r.recordingUsPerTask.toFixed(2).padStart(7)} µs/task (${((r.recordingRatio - 1) * 100).toFixed(0).padStart(3)}%)\n`,
      );
    }
  }
  if (!json && firstCalls[scheduler]) {
    const f = firstCalls[scheduler];
    process.stdout.write(`${scheduler.padEnd(10)} first call of the process (starts the pool), wide: ${f.ms.toFixed(0)} ms (${f.usPerTask.toFixed(2)} µs/task)\n`);
  }
}
await closeDefaultPools();
const baselines = { piscinaPerTaskUs: await piscinaBaseline(), postMessageUs: await postMessageBaseline() };
const dask = daskBaseline();
const cpu = {};
for (const scheduler of schedulers) cpu[scheduler] = cliCpuBound(scheduler);

const machine = { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version };
const speedup = Object.fromEntries(Object.entries(cpu).map(([k, c]) => [k, cpu.sync ? cpu.sync.elapsedMs / c.elapsedMs : null]));
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, runs: RUNS, results, firstCalls, baselines, dask, cpuBound: cpu, cpuBoundSpeedupOverSync: speedup }, null, 2)}\n`);
} else {
  process.stdout.write(`\nbaseline   piscina, one call per task      ${baselines.piscinaPerTaskUs.toFixed(2).padStart(7)} µs/task\n`);
  process.stdout.write(`baseline   worker_threads postMessage loop ${baselines.postMessageUs.toFixed(2).padStart(7)} µs/message\n`);
  if (dask.usPerTask) {
    process.stdout.write(`baseline   Dask ${dask.version} threaded get, default options: ${SHAPES.map((s) => `${s} ${dask.usPerTask[s].toFixed(2)}`).join(', ')} µs/task\n`);
  } else process.stdout.write(`baseline   Dask threaded get: not measured: ${dask.missing}\n`);
  for (const r of results) {
    if (r.scheduler !== 'threads') continue;
    const vsDask = dask.usPerTask ? `   Dask / skein threads ${(dask.usPerTask[r.shape] / r.usPerTask).toFixed(1).padStart(5)}x` : '';
    process.stdout.write(`ratio      ${r.shape.padEnd(5)} piscina per call / skein threads ${(baselines.piscinaPerTaskUs / r.usPerTask).toFixed(1).padStart(5)}x${vsDask}\n`);
  }
  for (const [k, c] of Object.entries(cpu)) {
    process.stdout.write(`cpu-bound  skein run, 16 x 45 ms, ${k.padEnd(9)} elapsedMs ${c.elapsedMs.toFixed(0).padStart(5)}  speedup over sync ${speedup[k]?.toFixed(2)}x  first task started ${c.firstTaskStartMs.toFixed(1)} ms into the run\n`);
  }
  process.stdout.write(`\n${machine.cpus} CPUs (${machine.model}), Node ${machine.node}; median of ${RUNS} runs after ${WARMUP} warm-up runs (skein run: median of ${CLI_RUNS})\n`);
}
