// `node bench/debug.mjs`: what stepping costs, measured through the debug adapter over stdio.
// - latency from a `next` request to its `stopped` event on a 1,000-task graph (median of 200);
// - the same for Step Back (from 500 tasks in: each replays the run up to the point before),
//   Run to Here (10 tasks ahead) and a result breakpoint (`result % 50 === 0`, 50 tasks per stop)
//   on that graph (target: 20 ms at the median for each);
// - `continue` from the first task to a breakpoint on the last task of a 100,000-task graph,
//   against a plain sync run of the same graph in this process (median of 5 each).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { get } from 'skein';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skein-debug-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** A chain of n tasks: each adds one to the previous (one ready task at a time, like stepping). */
function graphFile(n) {
  const file = join(dir, `chain-${n}.graph.mjs`);
  writeFileSync(file, `export const inc = (x) => x + 1;\nconst g = { 'inc-0': [inc, 0] };\nfor (let i = 1; i < ${n}; i++) g['inc-' + i] = [inc, 'inc-' + (i - 1)];\nexport default g;\n`);
  return file;
}

async function session(program, configure) {
  const dc = new DebugClient('node', join(root, 'dist/debugAdapter.js'), 'skein');
  await dc.start();
  const initialized = dc.waitForEvent('initialized');
  await dc.initializeRequest({ adapterID: 'skein', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const first = dc.waitForEvent('stopped', 60_000);
  await Promise.all([
    dc.launchRequest({ program, stopOnEntry: true }),
    (async () => {
      await initialized;
      await configure?.(dc);
      await dc.configurationDoneRequest();
    })(),
  ]);
  await first;
  return dc;
}

// 1. next → stopped latency
const small = graphFile(1000);
const dc = await session(small);
const latencies = [];
for (let i = 0; i < 220; i++) {
  const stopped = dc.waitForEvent('stopped');
  const t0 = performance.now();
  await dc.nextRequest({ threadId: 1 });
  await stopped;
  if (i >= 20) latencies.push(performance.now() - t0);
}
await dc.stop();

/** Median ms from a request to its stopped event, over `n` requests (after `warm` unmeasured). */
async function stops(d, n, request, warm = 3) {
  const out = [];
  for (let i = 0; i < n + warm; i++) {
    const stopped = d.waitForEvent('stopped');
    const t0 = performance.now();
    await request(i);
    await stopped;
    if (i >= warm) out.push(performance.now() - t0);
  }
  return out;
}

// 1b. Step Back from 500 tasks into the chain, 50 times (each back one more)
const back = await session(small, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'inc-560' }] }));
{
  const s = back.waitForEvent('stopped');
  await back.continueRequest({ threadId: 1 });
  await s;
}
const stepBacks = await stops(back, 50, () => back.stepBackRequest({ threadId: 1 }));
await back.stop();

// 1c. Run to Here, 10 tasks ahead each time
const runTo = await session(small);
const runTos = await stops(runTo, 50, (i) => runTo.customRequest('skeinRunTo', { key: `inc-${10 * (i + 1)}` }));
await runTo.stop();

// 1d. a result breakpoint: every 50th result
const results = await session(small, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'inc-*', condition: 'result % 50 === 0' }] }));
const resultStops = await stops(results, 15, () => results.continueRequest({ threadId: 1 }));
await results.stop();

// 2. continue to the last task of 100,000, against a plain sync run
const n = 100_000;
const big = graphFile(n);
const continues = [];
for (let r = 0; r < 5; r++) {
  const d = await session(big, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: `inc-${n - 1}` }] }));
  const stopped = d.waitForEvent('stopped', 120_000);
  const t0 = performance.now();
  await d.continueRequest({ threadId: 1 });
  await stopped;
  continues.push(performance.now() - t0);
  await d.stop();
}
const { default: graph } = await import(pathToFileURL(big).href);
const plain = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  await get(graph, `inc-${n - 1}`, { scheduler: 'sync' });
  if (r >= 2) plain.push(performance.now() - t0);
}
rmSync(dir, { recursive: true, force: true });

const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs.length });
const result = {
  nextToStoppedMs: summary(latencies),
  stepBackToStoppedMs: summary(stepBacks),
  runToHereToStoppedMs: summary(runTos),
  resultBreakpointToStoppedMs: summary(resultStops),
  continue100k: { debugMs: median(continues), plainSyncMs: median(plain), ratio: median(continues) / median(plain) },
};
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(`next → stopped, 1,000-task graph: median ${result.nextToStoppedMs.median.toFixed(2)} ms (min ${result.nextToStoppedMs.min.toFixed(2)}, max ${result.nextToStoppedMs.max.toFixed(2)}, ${latencies.length} steps)\n`);
  for (const [label, r] of [
    ['Step Back (500 tasks in)', result.stepBackToStoppedMs],
    ['Run to Here (10 ahead)', result.runToHereToStoppedMs],
    ['result breakpoint (every 50th)', result.resultBreakpointToStoppedMs],
  ]) {
    process.stdout.write(`${label} → stopped, 1,000-task graph: median ${r.median.toFixed(2)} ms (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)}, ${r.samples} stops; target 20 ms)\n`);
  }
  process.stdout.write(`continue to the last of 100,000 tasks: ${result.continue100k.debugMs.toFixed(0)} ms vs plain sync ${result.continue100k.plainSyncMs.toFixed(0)} ms: ${result.continue100k.ratio.toFixed(2)}x\n`);
}
