// `npm run bench`: per-task scheduling overhead on four shapes of trivial tasks.
//
// Each figure is the median over RUNS timed runs (after WARMUP untimed ones) of the wall time of
// one `get(graph, key)` call divided by the number of tasks; graph construction is not timed.
// Pools are created once and passed as `pool` (as Dask's default thread pool is long-lived), so
// the figures are scheduling overhead, not pool start-up. In the same run it measures the
// baselines (piscina with one call per task; a raw worker_threads postMessage loop) and a
// CPU-bound graph (16 tasks of ~50 ms) as speedup over sync.
// Usage: node bench/run.mjs [--json] [--runs N] [--schedulers sync,threads,processes]
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ProcessPool, Recorder, createThreadPool, get } from 'skein';
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

const pools = {
  sync: undefined,
  threads: schedulers.includes('threads') ? createThreadPool(NUM_WORKERS) : undefined,
  processes: schedulers.includes('processes') ? new ProcessPool({ numWorkers: NUM_WORKERS }) : undefined,
};

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

/** 16 independent ~50 ms CPU-bound tasks and a sum: wall ms. */
async function cpuBound(options) {
  const g = {};
  for (let i = 0; i < 16; i++) g[`spin-${i}`] = [shapes.spin, 50];
  g.total = [shapes.sum, ...Object.keys(g)];
  const samples = [];
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    await get(g, 'total', options);
    if (r > 0) samples.push(performance.now() - t0);
  }
  return median(samples);
}

const results = [];
for (const scheduler of schedulers) {
  for (const shape of SHAPES) {
    const r = await timeShape(shape, { scheduler, pool: pools[scheduler] ?? null });
    results.push({ scheduler, shape, ...r });
    if (!json) {
      process.stdout.write(
        `${scheduler.padEnd(10)} ${shape.padEnd(6)} ${String(r.tasks).padStart(6)} tasks  ${r.usPerTask.toFixed(2).padStart(7)} µs/task (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})  recording ${r.recordingUsPerTask.toFixed(2).padStart(7)} µs/task (${((r.recordingRatio - 1) * 100).toFixed(0).padStart(3)}%)\n`,
      );
    }
  }
}
const baselines = { piscinaPerTaskUs: await piscinaBaseline(), postMessageUs: await postMessageBaseline() };
const cpu = {};
for (const scheduler of schedulers) cpu[scheduler] = await cpuBound({ scheduler, pool: pools[scheduler] ?? null });
await pools.threads?.destroy();
await pools.processes?.close();

const machine = { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version };
const speedup = Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, cpu.sync ? cpu.sync / ms : null]));
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, runs: RUNS, results, baselines, cpuBoundMs: cpu, cpuBoundSpeedupOverSync: speedup }, null, 2)}\n`);
} else {
  process.stdout.write(`\nbaseline   piscina, one call per task      ${baselines.piscinaPerTaskUs.toFixed(2).padStart(7)} µs/task\n`);
  process.stdout.write(`baseline   worker_threads postMessage loop ${baselines.postMessageUs.toFixed(2).padStart(7)} µs/message\n`);
  for (const r of results) {
    if (r.scheduler === 'threads') process.stdout.write(`ratio      piscina per call / skein threads, ${r.shape.padEnd(5)} ${(baselines.piscinaPerTaskUs / r.usPerTask).toFixed(1).padStart(5)}x\n`);
  }
  for (const [k, ms] of Object.entries(cpu)) process.stdout.write(`cpu-bound  16 x 50 ms, ${k.padEnd(9)} ${ms.toFixed(0).padStart(6)} ms  speedup over sync ${speedup[k]?.toFixed(2)}x\n`);
  process.stdout.write(`\n${machine.cpus} CPUs (${machine.model}), Node ${machine.node}; median of ${RUNS} runs after ${WARMUP} warm-up runs\n`);
}
