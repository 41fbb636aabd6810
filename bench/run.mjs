// `npm run bench`: per-task scheduling overhead on four shapes of trivial tasks.
//
// Each figure is the median over RUNS timed runs (after WARMUP untimed ones) of the wall time of
// one `get(graph, key)` call divided by the number of tasks; graph construction is not timed.
// Usage: node bench/run.mjs [--json] [--runs N] [--schedulers sync,threads,processes]
import { availableParallelism, cpus } from 'node:os';
import { get } from 'skein';
import * as shapes from './shapes.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const json = argv.includes('--json');
const RUNS = Number(option('--runs', '15'));
const WARMUP = 10;
const schedulers = option('--schedulers', 'sync').split(',');
const SHAPES = ['wide', 'chain', 'tree', 'fan'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timeShape(shape, options) {
  const samples = [];
  let tasks = 0;
  for (let r = 0; r < WARMUP + RUNS; r++) {
    const built = shapes[shape]();
    tasks = built.tasks;
    const t0 = performance.now();
    await get(built.graph, built.key, options);
    const us = ((performance.now() - t0) * 1000) / built.tasks;
    if (r >= WARMUP) samples.push(us);
  }
  return { tasks, usPerTask: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

const results = [];
for (const scheduler of schedulers) {
  for (const shape of SHAPES) {
    const r = await timeShape(shape, { scheduler });
    results.push({ scheduler, shape, ...r });
    if (!json) {
      process.stdout.write(`${scheduler.padEnd(10)} ${shape.padEnd(6)} ${String(r.tasks).padStart(6)} tasks  ${r.usPerTask.toFixed(2).padStart(7)} µs/task (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})\n`);
    }
  }
}
const machine = { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version };
if (json) process.stdout.write(`${JSON.stringify({ machine, runs: RUNS, results }, null, 2)}\n`);
else process.stdout.write(`\n${machine.cpus} CPUs (${machine.model}), Node ${machine.node}; median of ${RUNS} runs after ${WARMUP} warm-up runs\n`);
