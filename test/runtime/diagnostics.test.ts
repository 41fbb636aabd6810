// Diagnostics: recorded runs, their validation, the trace export, the report's advice, the
// progress bar.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProgressBar, Recorder, analyze, closeDefaultPools, get, readRecord, toTrace, validateRecord, type RunRecord } from 'skein';
import { add, bigArray, fail, firstOf, inc, sleep, spin, sum } from '../data/ops.js';

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
    const slices = trace.traceEvents.filter((e) => e.ph === 'X');
    assert.equal(slices.length, 21);
    for (const s of slices) assert.deepEqual(Object.keys(s.args!).sort(), ['group', 'result_bytes', 'result_ms', 'run_ms', 'status', 'transfer_ms', 'wait_ms']);
    // slices on one worker track never overlap: a worker runs one task at a time
    for (let tid = 1; tid <= 2; tid++) {
      const mine = slices.filter((s) => s.tid === tid).sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.ts >= mine[i - 1]!.ts + mine[i - 1]!.dur! - 0.2);
    }
  });
});

describe('report advice', () => {
  it('says overhead dominates for many tiny tasks', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) graph[`inc-${i}`] = [inc, i];
    graph.total = [sum, ...Object.keys(graph)];
    const advice = analyze(await record(graph, 'total', 'threads')).advice;
    assert.equal(advice.length, 1, advice.join('\n'));
    assert.match(advice[0]!, /^Overhead dominates: \d+% of task time is scheduling and transfer \(median run \d+ µs vs median overhead [\d.]+ (µs|ms) per task over 301 tasks\)\. Make tasks bigger or fewer/);
  });

  it('suggests threads for CPU-bound work under sync', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 8; i++) graph[`spin-${i}`] = [spin, 40];
    graph.total = [sum, ...Object.keys(graph)];
    const advice = analyze(await record(graph, 'total', 'sync')).advice;
    assert.equal(advice.length, 1, advice.join('\n'));
    assert.match(advice[0]!, /^CPU-bound work ran on one thread: \d+ ms of task run time under sync, of which \d+ ms is off the critical path \(\d+\.\d ms\) and could run in parallel on this machine's \d+ CPUs\. Use --scheduler threads/);
  });

  it('points at large results copied between processes', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 4; i++) graph[`big-${i}`] = [bigArray, 600_000];
    graph.first = [firstOf, ...Object.keys(graph)];
    const advice = analyze(await record(graph, 'first', 'processes')).advice;
    assert.ok(advice.some((a) => /^Large results are copied between processes: 18\.3 MiB of serialized results, and moving data took /.test(a)), advice.join('\n'));
  });

  it('names a task that dominates the critical path', async () => {
    const graph = { slow: [spin, 300], a: [inc, 1], b: [inc, 2], all: [sum, 'slow', 'a', 'b'] };
    const advice = analyze(await record(graph, 'all', 'threads')).advice;
    assert.equal(advice.length, 1, advice.join('\n'));
    assert.match(advice[0]!, /^One task dominates the critical path: slow ran 3\d\d ms, (9\d|100)% of all task run time \(3\d\d ms\) and \d+% of the \d+ ms run; nothing else can make the run shorter\./);
  });

  it('tells waiting from computing: sleeps under sync get advice about waiting, not about CPU', async () => {
    const graph = { a: [sleep, 60], b: [sleep, 60], c: [sleep, 60], all: [sum, 'a', 'b', 'c'] };
    const rec = await record(graph, 'all', 'sync');
    for (const t of [0, 1, 2]) assert.ok((rec.tasks.busy![t] as number) < 10, `task ${t} kept the thread busy ${rec.tasks.busy![t]} ms of its ${(rec.tasks.finished[t] as number) - (rec.tasks.started[t] as number)} ms`);
    const advice = analyze(rec).advice;
    assert.equal(advice.length, 1, advice.join('\n'));
    assert.match(advice[0]!, /^Tasks mostly wait: 1\d\d ms of 1\d\d ms of task run time was waiting on promises \(I\/O, timers\), not computing \([\d.]+ (ms|µs)\); sync waits for one task at a time\. Use --scheduler threads/);
  });

  it('says when a small graph spends its time starting workers', async () => {
    await closeDefaultPools(); // the first compute of a process starts the workers
    const advice = analyze(await record({ a: [inc, 1], b: [inc, 'a'], c: [add, 'a', 'b'] }, 'c', 'threads')).advice;
    assert.equal(advice.length, 1, advice.join('\n'));
    assert.match(advice[0]!, /^The work is small next to the cost of workers: tasks ran \d+ µs in all, in a \d+(\.\d)? ms run \(\d+%\); starting workers and moving data took the rest\. For a graph this small, --scheduler sync is faster/);
  });

  it('stays silent on a healthy run', async () => {
    const graph: Record<string, unknown> = {};
    for (let i = 0; i < 8; i++) graph[`spin-${i}`] = [spin, 25];
    graph.total = [sum, ...Object.keys(graph)];
    assert.deepEqual(analyze(await record(graph, 'total', 'threads')).advice, []);
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
      assert.match(lines[1]!, /^22 tasks in [\d.]+ ms with the threads scheduler; run [\d.]+ (µs|ms), overhead [\d.]+ (µs|ms) \(overhead ratio \d+%\)$/);
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
