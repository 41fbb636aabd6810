// Diagnostics: recorded runs, their validation, the trace export, the report's advice, the
// progress bar.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProgressBar, RECORD_FORMAT, RECORD_VERSION, Recorder, analyze, get, keyGroup, readRecord, toTrace, validateRecord, type RunRecord } from 'skein';
import { add, fail, inc, sleep, spin, sum } from '../data/ops.js';
import { phasesOf } from '../../runtime/core/phases.js';
import { emptyNode, mergeInto, total, treeOfProfile, trimmed } from '../../runtime/diagnostics/flame.js';
import { startupLine } from '../../runtime/diagnostics/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function record(graph: Record<string, unknown>, key: string, scheduler: 'sync' | 'threads' | 'processes'): Promise<RunRecord> {
  const recorder = new Recorder({ resourceIntervalMs: 20 });
  let value: unknown;
  let error: unknown;
  try {
    value = await get(graph, key, { scheduler, numWorkers: 2, callbacks: [recorder] });
  } catch (e) {
    error = e;
  }
  return recorder.toRecord({ scheduler, numWorkers: scheduler === 'sync' ? 1 : 2, keys: [key], error }, [value]);
}

describe('recorded runs', () => {
  it('hold the graph, every state change, workers and results, and round-trip through JSON', async () => {
    //  a ─▶ b ─▶ c      (b fails in the second run)
    const r = await record({ a: [inc, 1], b: [inc, 'a'], c: [add, 'b', 10] }, 'c', 'sync');
    assert.equal(r.format, 'skein-run');
    assert.equal(r.version, 1);
    assert.deepEqual(r.graph.keys, ['a', 'b', 'c']);
    assert.deepEqual(r.graph.dependencies, [[], [0], [1]]);
    assert.deepEqual(r.graph.order, [0, 1, 2]);
    assert.deepEqual(r.graph.functions.map((f) => f.name), ['inc', 'add']);
    assert.equal(r.graph.functions[0]!.file, join(root, 'test/data/ops.ts'));
    assert.equal(typeof r.graph.functions[0]!.line, 'number');
    assert.deepEqual(r.tasks.status, ['released', 'released', 'memory']);
    assert.deepEqual(r.workers, [{ name: 'main', kind: 'main' }]);
    assert.deepEqual(r.results, [{ key: 'c', type: 'number', bytes: 4, preview: '13' }]);
    assert.equal(r.error, null);
    for (const t of [0, 1]) assert.ok(r.tasks.released[t]! >= r.tasks.received[t]!);
    assert.equal(r.tasks.released[2], null);
    assert.ok(r.resources.length >= 2 && r.resources.every((s) => s.source === 'main'));
    assert.deepEqual(validateRecord(JSON.parse(JSON.stringify(r))), JSON.parse(JSON.stringify(r)));

    const failed = await record({ a: [inc, 1], b: [fail, 'a'], c: [add, 'b', 10] }, 'c', 'sync');
    assert.equal(failed.run.status, 'erred');
    assert.deepEqual(failed.tasks.status, ['memory', 'erred', 'waiting']);
    assert.equal(failed.error!.key, 'b');
    assert.match(failed.error!.stack!, /^Error: 2\n/);
  });

  it('refuses corrupt and foreign files with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-record-'));
    try {
      const file = join(dir, 'x.skein.json');
      writeFileSync(file, '{"format": "skein-run", "version": 1, ');
      assert.throws(() => readRecord(file), { message: new RegExp(`^${file.replace(/[./]/g, '\\$&')} is not a valid Skein run record: it is not JSON \\(`) });
      writeFileSync(file, JSON.stringify({ traceEvents: [] }));
      assert.throws(() => readRecord(file), { message: `${file} is not a valid Skein run record: "format" is undefined, expected "skein-run" (is this a file written by skein run --record?)` });
      writeFileSync(file, JSON.stringify({ format: 'skein-run', version: 9 }));
      assert.throws(() => readRecord(file), { message: `${file} is not a valid Skein run record: version 9 is not supported; this Skein reads version 1` });
      assert.throws(() => readRecord(join(dir, 'missing.json')), { message: /^Cannot read .*missing\.json: ENOENT/ });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the schema version and the package version in step', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = validateRecord({ ...minimal(), skeinVersion: pkg.version });
    assert.equal(r.skeinVersion, pkg.version);
  });
});

function minimal(): RunRecord {
  return {
    format: 'skein-run',
    version: 1,
    skeinVersion: '0',
    createdAt: '',
    run: { graphFile: null, scheduler: 'sync', numWorkers: 1, keys: [], startedAt: 0, finishedAt: 0, status: 'ok', cpus: 2, node: '' },
    graph: { keys: [], groups: [], dependencies: [], order: [], functions: [], function: [] },
    tasks: { status: [], ready: [], dispatched: [], started: [], finished: [], received: [], released: [], erred: [], worker: [], resultBytes: [] },
    workers: [],
    resources: [],
    results: [],
    error: null,
  };
}

describe('trace export', () => {
  it('writes valid trace events: a track per worker, a slice per task with its phases', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) graph[`s-${i}`] = [spin, 2];
    graph.total = [sum, ...Object.keys(graph)];
    const r = await record(graph, 'total', 'threads');
    const trace = toTrace(r);
    const phs = new Set(['X', 'M', 'i']);
    for (const e of trace.traceEvents) {
      assert.equal(typeof e.name, 'string');
      assert.ok(phs.has(e.ph), e.ph);
      assert.equal(typeof e.ts, 'number');
      assert.equal(e.pid, 1);
      assert.ok(Number.isInteger(e.tid));
      if (e.ph === 'X') assert.ok(typeof e.dur === 'number' && e.dur >= 0);
      if (e.ph === 'M') assert.equal(typeof e.args?.name, 'string');
    }
    const tracks = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    assert.deepEqual(tracks, ['scheduler', ...r.workers.map((w) => w.name)]);
    assert.equal(r.workers.length, 2);
    const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.name !== 'worker start-up');
    assert.equal(slices.length, 21);
    // a worker that started for this run shows its start-up on its track, ending before its first task
    for (const s of trace.traceEvents.filter((e) => e.name === 'worker start-up')) {
      const first = Math.min(...slices.filter((t) => t.tid === s.tid).map((t) => t.ts));
      assert.ok(s.dur! > 0 && s.ts + s.dur! <= first + 0.2, JSON.stringify([s, first]));
    }
    for (const s of slices) assert.deepEqual(Object.keys(s.args!).sort(), ['group', 'result_bytes', 'result_ms', 'run_ms', 'status', 'transfer_ms', 'wait_ms']);
    // slices on one worker track never overlap: a worker runs one task at a time
    for (let tid = 1; tid <= 2; tid++) {
      const mine = slices.filter((s) => s.tid === tid).sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.ts >= mine[i - 1]!.ts + mine[i - 1]!.dur! - 0.2);
    }
  });
});

/** One task of a literal record: its times in ms from the run's start (the record's clock). */
interface LiteralTask {
  readonly key: string;
  readonly deps?: readonly string[];
  readonly ready: number;
  readonly dispatched?: number;
  readonly started: number;
  readonly finished: number;
  readonly received: number;
  readonly busy?: number;
  readonly bytes?: number;
  readonly worker?: number;
}

/**
 * A run record written out by hand, so each piece of advice is tested on exact numbers (no
 * timing of real runs: the advice is a function of the record).
 */
function literalRecord(scheduler: string, wallMs: number, tasks: readonly LiteralTask[], workers: readonly string[] = [], cpus = 2): RunRecord {
  const keys = tasks.map((t) => t.key);
  const index = new Map(keys.map((k, i) => [k, i]));
  const nulls = (): null[] => tasks.map(() => null);
  return validateRecord({
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    skeinVersion: '0.0.0',
    createdAt: '2026-01-01T00:00:00.000Z',
    run: { graphFile: null, scheduler, numWorkers: Math.max(1, workers.length), keys: [keys.at(-1)!], startedAt: 0, finishedAt: wallMs, status: 'ok', cpus, node: 'v20.20.2' },
    graph: { keys, groups: keys.map(keyGroup), dependencies: tasks.map((t) => (t.deps ?? []).map((d) => index.get(d)!)), order: keys.map((_, i) => i), functions: [], function: keys.map(() => -1) },
    tasks: {
      status: keys.map(() => 'memory'),
      ready: tasks.map((t) => t.ready),
      dispatched: tasks.map((t) => t.dispatched ?? t.ready),
      started: tasks.map((t) => t.started),
      finished: tasks.map((t) => t.finished),
      received: tasks.map((t) => t.received),
      released: nulls(),
      erred: nulls(),
      worker: tasks.map((t) => t.worker ?? -1),
      resultBytes: tasks.map((t) => t.bytes ?? null),
      busy: tasks.map((t) => t.busy ?? null),
    },
    workers: workers.map((name) => ({ name, kind: name.startsWith('process') ? 'process' : name.startsWith('thread') ? 'thread' : 'main' })),
    resources: [],
    results: [],
    error: null,
  });
}

describe('report advice', () => {
  it('says overhead dominates for many tiny tasks', () => {
    // 300 tasks of 10 µs, each with 90 µs of scheduling and transfer, and their sum
    const tasks: LiteralTask[] = [];
    for (let i = 0; i < 301; i++) tasks.push({ key: i < 300 ? `inc-${i}` : 'total', ready: i / 10, started: i / 10 + 0.04, finished: i / 10 + 0.05, received: i / 10 + 0.1, worker: 0 });
    assert.deepEqual(analyze(literalRecord('threads', 31, tasks, ['thread-1'])).advice, [
      'Overhead dominates: 90% of task time is scheduling and transfer (median run 10 µs vs median overhead 90 µs per task over 301 tasks). Make tasks bigger or fewer: do more work per task (process a chunk of items, not one item).',
    ]);
  });

  it('suggests threads for CPU-bound work under sync', () => {
    // eight tasks of 40 ms one after the other on a 2-CPU machine, then their sum
    const tasks: LiteralTask[] = [];
    for (let i = 0; i < 8; i++) tasks.push({ key: `spin-${i}`, ready: 0, dispatched: 40 * i, started: 40 * i, finished: 40 * i + 40, received: 40 * i + 40, worker: 0 });
    tasks.push({ key: 'total', deps: tasks.map((t) => t.key), ready: 320, started: 320, finished: 320.1, received: 320.1, worker: 0 });
    assert.deepEqual(analyze(literalRecord('sync', 321, tasks, ['main'])).advice, [
      "CPU-bound work ran on one thread: 320 ms of task run time under sync, of which 280 ms is off the critical path (40.1 ms) and could run in parallel on this machine's 2 CPUs. Use --scheduler threads (JavaScript threads run in parallel; there is no GIL).",
    ]);
  });

  it('points at large results copied between processes', () => {
    // four results of 4.8 MB that take 20 ms each to come back, 10 ms of work each
    const tasks: LiteralTask[] = [];
    for (let i = 0; i < 4; i++) tasks.push({ key: `big-${i}`, ready: 0, dispatched: 0, started: 1, finished: 11, received: 31, bytes: 4_800_000, worker: i % 2 });
    tasks.push({ key: 'first', deps: tasks.map((t) => t.key), ready: 31, started: 32, finished: 32.1, received: 32.2, bytes: 9, worker: 0 });
    assert.deepEqual(analyze(literalRecord('processes', 33, tasks, ['process-1', 'process-2'])).advice, [
      'Large results are copied between processes: 18.3 MiB of serialized results, and moving data took 85.1 ms (68% of task time). Use --scheduler threads: large ArrayBuffers are transferred, not copied, and a SharedArrayBuffer is shared.',
    ]);
  });

  it('names a task that dominates the critical path', () => {
    const tasks: LiteralTask[] = [
      { key: 'slow', ready: 0, started: 1, finished: 301, received: 301, worker: 0 },
      { key: 'a', ready: 0, started: 1, finished: 1.01, received: 1.1, worker: 1 },
      { key: 'b', ready: 0, started: 1.1, finished: 1.11, received: 1.2, worker: 1 },
      { key: 'all', deps: ['slow', 'a', 'b'], ready: 301, started: 302, finished: 302.01, received: 302.1, worker: 0 },
    ];
    assert.deepEqual(analyze(literalRecord('threads', 303, tasks, ['thread-1', 'thread-2'])).advice, [
      'One task dominates the critical path: slow ran 300 ms, 100% of all task run time (300 ms) and 99% of the 303 ms run; nothing else can make the run shorter. Split it into smaller tasks that can run in parallel.',
    ]);
  });

  it('tells waiting from computing: waits under sync get advice about waiting, not about CPU', () => {
    // three tasks that each wait 60 ms on a promise after 100 µs of work, then their sum
    const tasks: LiteralTask[] = ['a', 'b', 'c'].map((key, i) => ({ key, ready: 0, dispatched: 60 * i, started: 60 * i, finished: 60 * i + 60, received: 60 * i + 60, busy: 0.1, worker: 0 }));
    tasks.push({ key: 'all', deps: ['a', 'b', 'c'], ready: 180, started: 180, finished: 180.01, received: 180.01, worker: 0 });
    assert.deepEqual(analyze(literalRecord('sync', 181, tasks, ['main'])).advice, [
      'Tasks mostly wait: 180 ms of 180 ms of task run time was waiting on promises (I/O, timers), not computing (310 µs); sync waits for one task at a time. Use --scheduler threads: each worker lets up to asyncTasksPerWorker waiting tasks overlap.',
    ]);
  });

  it('says when a small graph spends its time starting workers', () => {
    const tasks: LiteralTask[] = [
      { key: 'a', ready: 0, started: 150, finished: 150.02, received: 151, worker: 0 },
      { key: 'b', deps: ['a'], ready: 151, started: 152, finished: 152.01, received: 153, worker: 0 },
      { key: 'c', deps: ['a', 'b'], ready: 153, started: 154, finished: 154.01, received: 155, worker: 0 },
    ];
    assert.deepEqual(analyze(literalRecord('threads', 160, tasks, ['thread-1'])).advice, [
      'The work is small next to the cost of workers: tasks ran 40 µs in all, in a 160 ms run (0%); starting workers and moving data took the rest. For a graph this small, --scheduler sync is faster; in a program that computes often, the default pool stays warm between computes, so only the first one pays for starting workers.',
    ]);
  });

  it("counts a worker's start-up as the worker's, not as its tasks' transfer or overhead", () => {
    // thread-1 starts at -50 and is ready at 150: a handed over at 0 begins at 151
    const tasks: LiteralTask[] = [
      { key: 'a', ready: 0, dispatched: 0, started: 151, finished: 161, received: 162, worker: 0 },
      { key: 'b', deps: ['a'], ready: 162, dispatched: 162, started: 163, finished: 173, received: 174, worker: 0 },
    ];
    const rec = literalRecord('threads', 175, tasks, ['thread-1']);
    const withStartup = { ...rec, workers: [{ ...rec.workers[0]!, startup: [-50, 150] as const }] };
    assert.deepEqual(phasesOf(0, 0, 151, 161, 162, [-50, 150]), { wait: 0, startup: 150, transfer: 1, run: 10, result: 1 });
    assert.deepEqual(phasesOf(162, 162, 163, 173, 174, [-50, 150]), { wait: 0, startup: 0, transfer: 1, run: 10, result: 1 });
    const report = analyze(withStartup);
    assert.deepEqual([report.overheadTotalMs, report.workers[0]!.startupMs], [4, 200]);
    assert.equal(startupLine(report), "worker start-up (the workers', not counted in task overhead): thread-1 200 ms");
    // without it, the same run: the wait for the worker is the task's
    assert.equal(analyze(rec).overheadTotalMs, 154);
    assert.equal(startupLine(analyze(rec)), undefined);
    const events = toTrace(withStartup).traceEvents as Array<{ name: string; ts: number; dur?: number; tid: number; args?: { transfer_ms?: number } }>;
    assert.equal(events.find((e) => e.name === 'a')!.args!.transfer_ms, 1);
    assert.deepEqual(events.filter((e) => e.name === 'worker start-up').map((e) => [e.tid, e.ts, e.dur]), [[1, -50_000, 200_000]]);
  });

  it('stays silent on a healthy run', () => {
    // eight tasks of 25 ms on two threads, little overhead, then their sum
    const tasks: LiteralTask[] = [];
    for (let i = 0; i < 8; i++) {
      const at = 25 * Math.floor(i / 2);
      tasks.push({ key: `spin-${i}`, ready: 0, dispatched: at, started: at + 0.05, finished: at + 25.05, received: at + 25.1, worker: i % 2 });
    }
    tasks.push({ key: 'total', deps: tasks.map((t) => t.key), ready: 100.1, started: 100.2, finished: 100.21, received: 100.3, worker: 0 });
    assert.deepEqual(analyze(literalRecord('threads', 101, tasks, ['thread-1', 'thread-2'])).advice, []);
  });
});

describe('busy time', () => {
  it('records how long each task kept its thread busy: a sleep keeps it busy a moment, not its whole wait', async () => {
    const rec = await record({ a: [sleep, 60], b: [sleep, 60], all: [sum, 'a', 'b'] }, 'all', 'sync');
    for (const t of [0, 1]) {
      const run = (rec.tasks.finished[t] as number) - (rec.tasks.started[t] as number);
      assert.ok(run >= 55 && (rec.tasks.busy![t] as number) < 10, `task ${t} kept the thread busy ${rec.tasks.busy![t]} ms of its ${run} ms`);
    }
  });
});

describe('progress bar', () => {
  it('draws done/total on a terminal stream and clears itself', async () => {
    let written = '';
    const stream = Object.assign(Object.create(process.stderr) as NodeJS.WriteStream, {
      isTTY: true,
      columns: 120,
      write: (chunk: string) => {
        written += chunk;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      clearScreenDown: () => true,
      moveCursor: () => true,
    });
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) graph[`s-${i}`] = [spin, 10];
    graph.total = [sum, ...Object.keys(graph)];
    await get(graph, 'total', { scheduler: 'sync', callbacks: [new ProgressBar({ stream })] });
    assert.match(written, /\| 0\/21 tasks \|/);
    assert.match(written, /\| 21\/21 tasks \| \d+ tasks\/s \| ETA 0s/);
  });
});

describe('skein run --record --trace, skein report', () => {
  it('records the example, exports a trace, and reports on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-report-'));
    try {
      const rec = join(dir, 'r.skein.json');
      const trace = join(dir, 't.json');
      const run = spawnSync(process.execPath, ['bin/skein.js', 'run', 'examples/etl.graph.ts', '--scheduler', 'threads', '--record', rec, '--trace', trace], { cwd: root, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(readRecord(rec).graph.keys.length, 22);
      assert.ok((JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: unknown[] }).traceEvents.length > 22);
      const report = spawnSync(process.execPath, ['bin/skein.js', 'report', rec], { cwd: root, encoding: 'utf8' });
      assert.equal(report.status, 0, report.stderr);
      const lines = report.stdout.split('\n');
      assert.equal(lines[0], `Skein run report: ${rec}`);
      assert.match(lines[1]!, /^22 tasks in [\d.]+ ms with the threads scheduler; summed over tasks: run [\d.]+ (µs|ms), overhead [\d.]+ (µs|ms) \(overhead ratio \d+%\)$/);
      for (const group of ['load', 'clean', 'revenue', 'units', 'stats', 'total', 'report']) assert.match(report.stdout, new RegExp(`^${group} +4? ?1? `, 'm'));
      assert.match(report.stdout, /^critical path \(/m);
      const bad = spawnSync(process.execPath, ['bin/skein.js', 'report', trace], { cwd: root, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr, `error: ${trace} is not a valid Skein run record: "format" is undefined, expected "skein-run" (is this a file written by skein run --record?)\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sampled profiles as call trees', () => {
  // (root) -> runBatch (Skein's) -> spin (the user's) -> now; plus idle and program samples
  const frame = (id: number, functionName: string, url: string, lineNumber: number, hitCount: number, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber, columnNumber: 0 }, hitCount, children });
  const profile = {
    nodes: [
      frame(1, '(root)', '', -1, 0, [2, 5, 6]),
      frame(2, 'runBatch', 'file:///skein/dist/runtime/chunk.js', 92, 1, [3]),
      frame(3, 'spin', 'file:///work/ops.js', 20, 90, [4]),
      frame(4, 'now', 'node:internal/perf', 136, 5),
      frame(5, '(idle)', '', -1, 400),
      frame(6, '(program)', '', -1, 7),
    ],
  };

  it("merges samples by call path, leaves out idle time and the worker's own frames above the task, and places frames by source map", () => {
    const tree = treeOfProfile(profile, { hideTop: (url) => url.startsWith('file:///skein/'), locate: (url, line) => (url === 'file:///work/ops.js' ? { file: '/work/ops.ts', line: line + 3 } : undefined) })!;
    assert.deepEqual(tree, {
      name: 'all', file: '', line: 0, self: 1,
      children: [{ name: 'spin', file: '/work/ops.ts', line: 23, self: 90, children: [{ name: 'now', file: 'node:internal/perf', line: 137, self: 5, children: [] }] }],
    });
    assert.equal(treeOfProfile({ nodes: [frame(1, '(root)', '', -1, 0, [2]), frame(2, '(idle)', '', -1, 50)] }), null);
    const both = emptyNode();
    mergeInto(both, tree);
    mergeInto(both, tree);
    assert.equal(total(both), 192);
    assert.equal(both.children[0]!.self, 180);
    // under 6% of the whole: folded into its parent, totals kept
    const cut = trimmed(both, 0.06);
    assert.deepEqual([cut.children[0]!.children, cut.children[0]!.self, total(cut)], [[], 190, 192]);
  });
});
