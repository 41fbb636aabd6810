/**
 * `skein report run.skein.json`: what a recorded run spent its time on, and advice derived from
 * the measurements in the spirit of Dask's scheduler decision matrix. Every piece of advice cites
 * the figures that triggered it; a healthy run gets none.
 */
import type { RunRecord } from './recordSchema.js';
import { phasesOf } from '../core/phases.js';

export interface GroupStats {
  readonly group: string;
  readonly count: number;
  readonly runTotalMs: number;
  readonly runMedianMs: number;
  readonly overheadTotalMs: number;
  readonly overheadMedianMs: number;
}

export interface Report {
  readonly scheduler: string;
  /** The run failed (or was cancelled): the failing key, where known, and the message. */
  readonly failure: { readonly key: string | null; readonly message: string; readonly unfinished: number; readonly total: number } | null;
  readonly wallMs: number;
  readonly tasks: number;
  readonly groups: GroupStats[];
  /** `startupMs`: how long the worker took to start, when it started for this run (0: it was up). */
  readonly workers: Array<{ name: string; tasks: number; busyMs: number; utilization: number; startupMs: number }>;
  readonly slowest: Array<{ key: string; runMs: number; worker: string | null }>;
  readonly runTotalMs: number;
  readonly overheadTotalMs: number;
  /** overhead / (overhead + run) over all tasks that ran. */
  readonly overheadRatio: number;
  readonly criticalPath: { keys: string[]; runMs: number };
  readonly advice: string[];
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A duration for people: µs below a millisecond, ms above (the panel uses the same). */
/** A run's duration, as every view shows it: ms under a second, else seconds with two decimals. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export const formatMs = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`);
const ms = formatMs;
const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** Reduces a record to the report's figures and advice. */
export function analyze(record: RunRecord): Report {
  const { graph, tasks } = record;
  const n = graph.keys.length;
  const wallMs = record.run.finishedAt - record.run.startedAt;
  const run = new Float64Array(n).fill(Number.NaN);
  const overhead = new Float64Array(n).fill(Number.NaN);
  const byGroup = new Map<string, { runs: number[]; overheads: number[] }>();
  // a worker that was still starting when the run began: its start-up is the worker's, not its tasks' overhead
  const workers = record.workers.map((w) => ({ name: w.name, tasks: 0, busyMs: 0, utilization: 0, startupMs: w.startup !== undefined && w.startup[1] > record.run.startedAt ? w.startup[1] - w.startup[0] : 0 }));
  let runTotalMs = 0;
  let overheadTotalMs = 0;
  let bytesTotal = 0;
  let resultPhaseMs = 0;
  for (let t = 0; t < n; t++) {
    const { ready, dispatched, started, finished, received } = {
      ready: tasks.ready[t],
      dispatched: tasks.dispatched[t],
      started: tasks.started[t],
      finished: tasks.finished[t],
      received: tasks.received[t],
    };
    if (started == null || finished == null || received == null || ready == null) continue;
    const p = phasesOf(ready, dispatched ?? Number.NaN, started, finished, received, record.workers[tasks.worker[t]!]?.startup);
    run[t] = p.run;
    overhead[t] = received - ready - p.run - p.startup;
    runTotalMs += run[t]!;
    overheadTotalMs += overhead[t]!;
    if (dispatched != null) resultPhaseMs += p.result + p.transfer;
    bytesTotal += tasks.resultBytes[t] ?? 0;
    const g = byGroup.get(graph.groups[t]!) ?? { runs: [], overheads: [] };
    g.runs.push(run[t]!);
    g.overheads.push(overhead[t]!);
    byGroup.set(graph.groups[t]!, g);
    const w = workers[tasks.worker[t]!];
    if (w !== undefined) {
      w.tasks++;
      w.busyMs += run[t]!;
    }
  }
  for (const w of workers) w.utilization = wallMs > 0 ? w.busyMs / wallMs : 0;
  const groups = [...byGroup].map(([group, g]) => ({
    group,
    count: g.runs.length,
    runTotalMs: g.runs.reduce((a, b) => a + b, 0),
    runMedianMs: median(g.runs),
    overheadTotalMs: g.overheads.reduce((a, b) => a + b, 0),
    overheadMedianMs: median(g.overheads),
  }));
  groups.sort((a, b) => b.runTotalMs - a.runTotalMs);
  const ran = [...Array(n).keys()].filter((t) => !Number.isNaN(run[t]!));
  const slowest = ran
    .sort((a, b) => run[b]! - run[a]!)
    .slice(0, 5)
    .map((t) => ({ key: graph.keys[t]!, runMs: run[t]!, worker: tasks.worker[t]! >= 0 ? record.workers[tasks.worker[t]!]!.name : null }));

  // critical path by run time: the static order is a topological order
  const byOrder = [...Array(n).keys()].sort((a, b) => graph.order[a]! - graph.order[b]!);
  const pathMs = new Float64Array(n);
  const via = new Int32Array(n).fill(-1);
  for (const t of byOrder) {
    let best = 0;
    for (const d of graph.dependencies[t]!) {
      if (pathMs[d]! > best) {
        best = pathMs[d]!;
        via[t] = d;
      }
    }
    pathMs[t] = best + (Number.isNaN(run[t]!) ? 0 : run[t]!);
  }
  let end = 0;
  for (let t = 1; t < n; t++) if (pathMs[t]! > pathMs[end]!) end = t;
  const pathKeys: string[] = [];
  for (let t = n > 0 ? end : -1; t >= 0; t = via[t]!) pathKeys.unshift(graph.keys[t]!);
  const criticalPath = { keys: pathKeys, runMs: n > 0 ? pathMs[end]! : 0 };
  const overheadRatio = runTotalMs + overheadTotalMs > 0 ? overheadTotalMs / (runTotalMs + overheadTotalMs) : 0;

  const advice: string[] = [];
  const medianRun = median(ran.map((t) => run[t]!));
  const medianOverhead = median(ran.map((t) => overhead[t]!));
  if (ran.length >= 50 && overheadRatio > 0.5 && medianRun < 1) {
    advice.push(
      `Overhead dominates: ${pct(overheadRatio)} of task time is scheduling and transfer (median run ${ms(medianRun)} vs median overhead ${ms(medianOverhead)} per task over ${ran.length} tasks). Make tasks bigger or fewer: do more work per task (process a chunk of items, not one item).`,
    );
  }
  if (advice.length === 0 && record.run.scheduler !== 'sync' && wallMs > 50 && runTotalMs < 0.2 * wallMs) {
    advice.push(
      `The work is small next to the cost of workers: tasks ran ${ms(runTotalMs)} in all, in a ${ms(wallMs)} run (${pct(runTotalMs / wallMs)}); starting workers and moving data took the rest. For a graph this small, --scheduler sync is faster; in a program that computes often, the default pool stays warm between computes, so only the first one pays for starting workers.`,
    );
  }
  // waiting (on I/O, timers) versus computing: busy is how long each task kept its thread
  let busyTotalMs = 0;
  for (const t of ran) busyTotalMs += Number.isFinite(tasks.busy?.[t] ?? Number.NaN) ? (tasks.busy![t] as number) : run[t]!;
  const waitTotalMs = Math.max(0, runTotalMs - busyTotalMs);
  if (runTotalMs > 100 && waitTotalMs > 0.5 * runTotalMs) {
    advice.push(
      record.run.scheduler === 'sync'
        ? `Tasks mostly wait: ${ms(waitTotalMs)} of ${ms(runTotalMs)} of task run time was waiting on promises (I/O, timers), not computing (${ms(busyTotalMs)}); sync waits for one task at a time. Use --scheduler threads: each worker lets up to asyncTasksPerWorker waiting tasks overlap.`
        : `Tasks mostly wait: ${ms(waitTotalMs)} of ${ms(runTotalMs)} of task run time was waiting on promises (I/O, timers), not computing (${ms(busyTotalMs)}). Waiting tasks overlap in each worker up to asyncTasksPerWorker; raise it if workers sit idle while tasks wait.`,
    );
  }
  const parallelWork = busyTotalMs - criticalPath.runMs;
  if (record.run.scheduler === 'sync' && record.run.cpus > 1 && busyTotalMs > 200 && waitTotalMs < 0.5 * runTotalMs && parallelWork > 0.3 * runTotalMs) {
    advice.push(
      `CPU-bound work ran on one thread: ${ms(runTotalMs)} of task run time under sync, of which ${ms(parallelWork)} is off the critical path (${ms(criticalPath.runMs)}) and could run in parallel on this machine's ${record.run.cpus} CPUs. Use --scheduler threads (JavaScript threads run in parallel; there is no GIL).`,
    );
  }
  if (record.run.scheduler === 'processes' && bytesTotal > 10 * 1024 * 1024 && resultPhaseMs > 0.2 * (runTotalMs + overheadTotalMs)) {
    advice.push(
      `Large results are copied between processes: ${(bytesTotal / 1024 / 1024).toFixed(1)} MiB of serialized results, and moving data took ${ms(resultPhaseMs)} (${pct(resultPhaseMs / (runTotalMs + overheadTotalMs))} of task time). Use --scheduler threads: large ArrayBuffers are transferred, not copied, and a SharedArrayBuffer is shared.`,
    );
  }
  const top = slowest[0];
  if (top !== undefined && ran.length > 1 && top.runMs >= 10 && criticalPath.keys.includes(top.key) && top.runMs > 0.5 * runTotalMs) {
    advice.push(
      `One task dominates the critical path: ${top.key} ran ${ms(top.runMs)}, ${pct(top.runMs / runTotalMs)} of all task run time (${ms(runTotalMs)}) and ${pct(top.runMs / wallMs)} of the ${ms(wallMs)} run; nothing else can make the run shorter. Split it into smaller tasks that can run in parallel.`,
    );
  }
  const unfinished = tasks.status.filter((st) => st !== 'memory' && st !== 'released').length;
  return {
    scheduler: record.run.scheduler,
    failure: record.error === null ? null : { key: record.error.key, message: record.error.message, unfinished, total: n },
    wallMs,
    tasks: ran.length,
    groups,
    workers,
    slowest,
    runTotalMs,
    overheadTotalMs,
    overheadRatio,
    criticalPath,
    advice,
  };
}

/** The workers that started for this run and how long each took, when any did. */
export function startupLine(r: Report): string | undefined {
  const started = r.workers.filter((w) => w.startupMs > 0);
  if (started.length === 0) return undefined;
  return `worker start-up (the workers', not counted in task overhead): ${started.map((w) => `${w.name} ${ms(w.startupMs)}`).join(', ')}`;
}

/** The report as terminal text. */
export function formatReport(r: Report, source: string): string {
  const lines: string[] = [];
  lines.push(`Skein run report: ${source}`);
  if (r.failure !== null) {
    // a failed run: what failed comes first, the timings after
    const first = r.failure.message.split('\n')[0]!;
    lines.push(`FAILED${r.failure.key === null ? '' : ` at task ${JSON.stringify(r.failure.key)}`}: ${first}`);
    lines.push(`${r.failure.unfinished} of ${r.failure.total} tasks did not finish; the figures below cover the tasks that ran.`);
    lines.push('');
  }
  lines.push(`${r.tasks} tasks in ${ms(r.wallMs)} with the ${r.scheduler} scheduler; summed over tasks: run ${ms(r.runTotalMs)}, overhead ${ms(r.overheadTotalMs)} (overhead ratio ${pct(r.overheadRatio)})`);
  const starting = startupLine(r);
  if (starting !== undefined) lines.push(starting);
  lines.push('');
  lines.push('group                 tasks   run total  run median  overhead total  overhead median');
  for (const g of r.groups) {
    lines.push(`${g.group.slice(0, 20).padEnd(20)} ${String(g.count).padStart(6)} ${ms(g.runTotalMs).padStart(11)} ${ms(g.runMedianMs).padStart(11)} ${ms(g.overheadTotalMs).padStart(15)} ${ms(g.overheadMedianMs).padStart(16)}`);
  }
  lines.push('');
  lines.push('worker                tasks   busy        utilization');
  for (const w of r.workers) lines.push(`${w.name.padEnd(20)} ${String(w.tasks).padStart(6)} ${ms(w.busyMs).padStart(11)} ${pct(w.utilization).padStart(12)}`);
  lines.push('');
  lines.push('slowest tasks');
  for (const s of r.slowest) lines.push(`  ${s.key}  ${ms(s.runMs)}${s.worker ? ` on ${s.worker}` : ''}`);
  const path = r.criticalPath.keys;
  lines.push('');
  lines.push(`critical path (${ms(r.criticalPath.runMs)} of run time): ${path.length > 8 ? `${path.slice(0, 4).join(' -> ')} -> … -> ${path.slice(-3).join(' -> ')}` : path.join(' -> ')}`);
  lines.push('');
  if (r.advice.length === 0) lines.push('advice: none; nothing in this run stands out.');
  else for (const a of r.advice) lines.push(`advice: ${a}`);
  return `${lines.join('\n')}\n`;
}
