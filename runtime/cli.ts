/**
 * The `skein` command line: `skein run`, `skein config`.
 *
 * stdout carries results only (and with `--json`, exactly one JSON object); messages, the
 * summary and errors go to stderr. Exit codes: 0 success, 1 a task failed, 2 bad input or
 * configuration, 130 interrupted.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SkeinError, TaskError } from './errors.js';
import { SCHEDULERS, config } from './core/config.js';
import { loadGraphFile } from './loader/loadGraph.js';
import { formatValue, jsonReplacer } from './cli/format.js';
import { userStack } from './cli/stack.js';
import { cull } from './graph/cull.js';
import { compileGraph } from './graph/compile.js';
import { keyGroup } from './graph/spec.js';
import { writeFileSync } from 'node:fs';
import { closeDefaultPools } from './schedulers/defaultPools.js';
import { loadGraphFileRun } from './run/graphFileRun.js';
import { takeEarlyInterrupt } from './cli/prewarm.js';
import type { Callback } from './core/callbacks.js';
import { Recorder } from './diagnostics/recorder.js';
import { ProgressBar } from './diagnostics/progress.js';
import { type RunRecord, readRecord } from './diagnostics/record.js';
import { toTrace } from './diagnostics/trace.js';
import { graphRecord, standaloneHtml } from './diagnostics/visualize.js';
import { basename } from 'node:path';
import { analyze, formatReport } from './diagnostics/report.js';
import { pauseBeforeTask } from './debug/pauseBefore.js';
import { get } from './schedule.js';
import { debugCommand } from './cli/debugCommand.js';

interface RunOptions {
  scheduler?: string;
  numWorkers?: number;
  threadsPerWorker?: number;
  keys?: string[];
  json?: boolean;
  progress?: boolean;
  record?: string;
  trace?: string;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}

function keyList(text: string): string[] {
  return text.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
}

async function runCommand(file: string, opts: RunOptions): Promise<number> {
  // Ctrl-C from here on cancels the run (before it starts, too: then nothing has finished)
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted (SIGINT)'));
  process.once('SIGINT', onSigint);
  if (takeEarlyInterrupt()) onSigint();
  const prepared = await loadGraphFileRun(file, { scheduler: opts.scheduler, numWorkers: opts.numWorkers, threadsPerWorker: opts.threadsPerWorker, keys: opts.keys });
  const { keys, cfg, numWorkers: workers, threadsPerWorker } = prepared;
  const tasks = prepared.graph.size;
  const callbacks: Callback[] = [];
  const recorder = opts.record !== undefined || opts.trace !== undefined ? new Recorder() : undefined;
  if (recorder !== undefined) callbacks.push(recorder);
  if (opts.progress !== false && !opts.json && process.stderr.isTTY) callbacks.push(new ProgressBar());
  const outcome = await prepared.run(callbacks, controller.signal);
  process.removeListener('SIGINT', onSigint);
  const record = recorder === undefined ? undefined : prepared.record(recorder, outcome);
  if (record !== undefined) {
    if (opts.record !== undefined) writeFileSync(opts.record, `${JSON.stringify(record)}\n`);
    if (opts.trace !== undefined) writeFileSync(opts.trace, `${JSON.stringify(toTrace(record))}\n`);
  }
  if (outcome.failure !== undefined) {
    if (outcome.failure instanceof TaskError) {
      // the error, its stack, then the one command that stops a debugger at that task
      const code = reportError(outcome.failure);
      process.stderr.write(`debug it: ${debugCommand(file, outcome.failure.key)}\n`);
      return code;
    }
    throw outcome.failure;
  }
  const { values } = outcome;
  const elapsedMs = Math.round(outcome.elapsedMs * 1000) / 1000;
  if (opts.json) {
    const results = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    process.stdout.write(`${JSON.stringify({ results, scheduler: cfg.scheduler, tasks, elapsedMs }, jsonReplacer)}\n`);
  } else {
    const colors = process.stdout.isTTY === true;
    keys.forEach((k, i) => process.stdout.write(`${k}: ${formatValue(values[i], colors)}\n`));
    process.stderr.write(`${tasks} tasks in ${elapsedMs.toFixed(1)} ms, ${cfg.scheduler} scheduler, ${workers} worker${workers === 1 ? '' : 's'}${threadsPerWorker === undefined ? '' : ` × ${threadsPerWorker} thread${threadsPerWorker === 1 ? '' : 's'}`}\n`);
  }
  return 0;
}

/**
 * `skein debug`: computes what `key` needs with the sync scheduler, in this process, with Node's
 * inspector open, and stops just before the task's function once a debugger is attached.
 */
async function debugTaskCommand(file: string, opts: { key: string; port: number; host: string }): Promise<number> {
  const prepared = await loadGraphFileRun(file, { scheduler: 'sync', keys: [opts.key] });
  const graph = pauseBeforeTask(prepared.graph, opts.key);
  const inspector = await import('node:inspector');
  inspector.open(opts.port, opts.host, false);
  process.stderr.write(
    `skein debug: ${prepared.graph.size} task${prepared.graph.size === 1 ? '' : 's'} (what ${JSON.stringify(opts.key)} needs) will run in this process, then stop before ${JSON.stringify(opts.key)}.\n` +
      `  Attach a debugger: in VS Code, "Debug: Attach to Node Process" (or Auto Attach); in Chrome, chrome://inspect.\n` +
      `  Listening on ${inspector.url()}; waiting…\n`,
  );
  inspector.waitForDebugger();
  try {
    const [value] = (await get(graph, [opts.key], { scheduler: 'sync' })) as unknown[];
    process.stderr.write(`skein debug: ${JSON.stringify(opts.key)} did not fail this time; its value:\n`);
    process.stdout.write(`${opts.key}: ${formatValue(value, process.stdout.isTTY === true)}\n`);
    return 0;
  } finally {
    inspector.close();
  }
}

function configCommand(json: boolean): number {
  const rows = config.explain().filter((r) => r.key !== 'callbacks' && r.key !== 'pool');
  if (json) {
    process.stdout.write(`${JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])))}\n`);
    return 0;
  }
  const width = Math.max(...rows.map((r) => r.key.length));
  for (const r of rows) process.stdout.write(`${r.key.padEnd(width)}  ${JSON.stringify(r.value).padEnd(10)}  (${r.source})\n`);
  return 0;
}

function reportError(error: unknown): number {
  if (error instanceof TaskError) {
    process.stderr.write(`error: ${error.message}\n`);
    const cause = error.cause;
    if (cause instanceof Error && !(cause instanceof SkeinError) && cause.stack) process.stderr.write(`${userStack(cause.stack)}\n`);
    return 1;
  }
  if (error instanceof SkeinError) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.code === 'CANCELLED' ? 130 : 2;
  }
  process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 2;
}

export function buildProgram(): Command {
  const program = new Command('skein')
    .description('Dask-style task graphs for TypeScript: run a graph file with the sync, threads, processes or distributed scheduler.')
    .showHelpAfterError()
    .addHelpText('after', '\nExamples:\n  skein run examples/etl.graph.ts\n  skein run pipeline.graph.ts --scheduler sync --keys total --json\n  skein config');
  program
    .command('run')
    .description('run a graph file and print the results of its output keys')
    .argument('<graph-file>', '.ts, .mts, .js or .mjs module whose default export is a graph, a delayed value or an array of them')
    .addOption(new Option('-s, --scheduler <name>', 'scheduler to use (default: from configuration, "threads")').choices([...SCHEDULERS]))
    .option('-n, --num-workers <n>', 'worker threads or processes (default: one per CPU)', positiveInt)
    .option('--threads-per-worker <n>', 'distributed: tasks each worker process runs at once (default: as Dask sizes a local cluster)', positiveInt)
    .option('-k, --keys <keys>', 'comma-separated keys to compute (default: the graph outputs)', keyList)
    .option('--json', 'print exactly one JSON object {results, scheduler, tasks, elapsedMs} on stdout')
    .option('--no-progress', 'do not draw the progress bar (it is drawn only on a terminal, never with --json)')
    .option('--record <file>', 'write a recorded run (timings, states, workers, resources) to <file>, e.g. run.skein.json')
    .option('--trace <file>', 'write a Chrome/Perfetto trace-event JSON file')
    .addHelpText('after', '\nExamples:\n  skein run examples/etl.graph.ts --scheduler sync\n  skein run examples/etl.graph.ts --keys report --json\n  skein run examples/etl.graph.ts --record run.skein.json --trace trace.json && skein report run.skein.json')
    .action(async (file: string, opts: RunOptions) => {
      process.exitCode = await runCommand(file, opts);
    });
  program
    .command('debug')
    .description('run one task again under a debugger: what it needs runs with the sync scheduler, then the debugger stops just before it')
    .argument('<graph-file>', 'the graph file')
    .requiredOption('-k, --key <key>', 'the task to stop at (the one a failed run names)')
    .option('-p, --port <port>', "the inspector's port (0: a free one)", (t) => Number(t), 9229)
    .option('--host <host>', "the inspector's address", '127.0.0.1')
    .addHelpText('after', '\nExample (the line a failed skein run ends with):\n  skein debug examples/etl.graph.ts --key clean-north')
    .action(async (file: string, opts: { key: string; port: number; host: string }) => {
      process.exitCode = await debugTaskCommand(file, opts);
    });
  program
    .command('keys')
    .description("list a graph file's keys with their group and number of dependencies")
    .argument('<graph-file>', 'a graph file')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const loaded = await loadGraphFile(file);
      const g = compileGraph(loaded.graph);
      const keys = g.keys.map((key, t) => ({ key, group: keyGroup(key), dependencies: g.depStart[t + 1]! - g.depStart[t]! }));
      if (opts.json) process.stdout.write(`${JSON.stringify(keys)}\n`);
      else for (const k of keys) process.stdout.write(`${k.key}  (${k.group}, ${k.dependencies} dependencies)\n`);
    });
  program
    .command('visualize')
    .description('write the graph panel as one self-contained HTML file, for a graph file or a recorded run')
    .argument('<graph-or-record>', 'a graph file (drawn before it runs) or a run.skein.json written by skein run --record')
    .option('-o, --output <file>', 'the HTML file to write')
    .option('--json', 'print the record of the graph (or run) as JSON instead of writing HTML')
    .option('-k, --keys <keys>', 'for a graph file: comma-separated keys to draw (default: the whole graph)', keyList)
    .addHelpText('after', '\nExamples:\n  skein visualize examples/etl.graph.ts -o graph.html\n  skein run examples/etl.graph.ts --record run.skein.json && skein visualize run.skein.json -o run.html')
    .action(async (file: string, opts: { output?: string; keys?: string[]; json?: boolean }) => {
      if (opts.output === undefined && !opts.json) throw new InvalidArgumentError('give -o <file.html> (or --json)');
      let record: RunRecord;
      if (file.endsWith('.json')) record = readRecord(file);
      else {
        const loaded = await loadGraphFile(file);
        const dsk = opts.keys ? cull(loaded.graph, opts.keys) : loaded.graph;
        record = graphRecord(dsk, opts.keys ?? loaded.keys, loaded.file);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(record)}\n`);
        return;
      }
      writeFileSync(opts.output!, standaloneHtml(record, `Skein: ${basename(record.run.graphFile ?? file)}`));
      process.stderr.write(`wrote ${opts.output} (${record.graph.keys.length} tasks)\n`);
    });
  program
    .command('report')
    .description('summarize a recorded run: time per key group, workers, slowest tasks, overhead, advice')
    .argument('<record-file>', 'a file written by skein run --record')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExample:\n  skein run examples/etl.graph.ts --record run.skein.json && skein report run.skein.json')
    .action((file: string, opts: { json?: boolean }) => {
      const report = analyze(readRecord(file));
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report, file));
    });
  program
    .command('scheduler')
    .description('start a distributed scheduler; workers join it with skein worker, clients with new Client(address)')
    .option('-p, --port <port>', 'port to listen on (0: a free one)', (t) => Number(t), 8786)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--secret-file <file>', 'where to write the shared secret (default: a file only you can read, found by workers on this machine)')
    .option('--dashboard-address <host:port>', 'where the dashboard listens (default 127.0.0.1:8787, the next free port if taken)')
    .option('--dashboard-token <token>', 'a token the dashboard link carries; needed beyond 127.0.0.1')
    .option('--no-dashboard', 'serve no dashboard')
    .option('--nats <url>', 'listen through a NATS server instead of a port (nats://[TOKEN@]HOST:4222): workers and clients on other machines reach it there')
    .addHelpText('after', '\nExamples:\n  skein scheduler --port 8786 & skein worker tcp://127.0.0.1:8786 --nthreads 2\n  skein scheduler --nats nats://10.0.0.5:4222 & skein worker --nats nats://10.0.0.5:4222 --nthreads 4')
    .action(async (opts: { port: number; host: string; secretFile?: string; dashboardAddress?: string; dashboard?: boolean; dashboardToken?: string; nats?: string }) => {
      const { startSchedulerCommand } = await import('./distributed/commands.js');
      await startSchedulerCommand(opts);
    });
  program
    .command('worker')
    .description('start a distributed worker (kept running by this process) that joins the scheduler at <address>, or through NATS with --nats')
    .argument('[address]', 'the scheduler, e.g. tcp://127.0.0.1:8786')
    .option('--nats <url>', 'join the scheduler that listens through this NATS server (nats://[TOKEN@]HOST:4222)')
    .option('--nthreads <n>', 'tasks it runs at once', positiveInt, 1)
    .option('--memory-limit <size>', "memory it may use: bytes, '2GB', 'auto' or 0 for none")
    .option('--name <name>', 'its name in the dashboard and in task streams')
    .option('--secret-file <file>', "the scheduler's secret (default: the file skein scheduler wrote on this machine)")
    .option('--profile [ms]', "sample its task threads with V8's profiler (the dashboard's Profile page), every 10 ms or every [ms]")
    .action(async (address: string | undefined, opts: { nthreads: number; memoryLimit?: string; name?: string; secretFile?: string; profile?: boolean | string; nats?: string }) => {
      const target = opts.nats ?? address;
      if (target === undefined) throw new InvalidArgumentError('give the scheduler: skein worker tcp://HOST:8786, or skein worker --nats nats://HOST:4222');
      const { startWorkerCommand } = await import('./distributed/commands.js');
      await startWorkerCommand(target, opts);
    });
  program
    .command('kube')
    .description('Kubernetes: workers as pods (see also KubeCluster in skein/distributed)')
    .command('manifest')
    .description('print a Deployment of worker pods joining the scheduler at a NATS address, for kubectl apply -f -')
    .requiredOption('--nats <url>', 'where pods reach the scheduler (nats://nats.default.svc:4222)')
    .option('--workers <n>', 'worker pods (replicas)', positiveInt, 2)
    .option('--nthreads <n>', 'tasks each worker runs at once (and the cores its pod asks for)', positiveInt, 1)
    .option('--memory <size>', 'memory each pod asks for and its worker may use', '2GB')
    .option('--image <image>', 'container image with Node.js 20', 'node:20-bookworm-slim')
    .option('--name <name>', "the Deployment's name", 'skein-worker')
    .option('--namespace <namespace>', 'its namespace (default: kubectl\'s)')
    .addHelpText('after', '\nExample:\n  skein kube manifest --nats nats://nats.default.svc:4222 --workers 4 | kubectl apply -f -')
    .action(async (opts: { nats: string; workers: number; nthreads: number; memory: string; image: string; name: string; namespace?: string }) => {
      const { kubeManifest } = await import('./distributed/kube.js');
      process.stdout.write(kubeManifest(opts));
    });
  program
    .command('config')
    .description('print the merged configuration and where each value came from')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      process.exitCode = configCommand(opts.json === true);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  // output piped into a reader that stops early (`skein keys g.graph.ts | head`): stop quietly, as cat does
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exitCode = 0;
    void closeDefaultPools().finally(() => process.exit());
  });
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error);
  } finally {
    // one command per process: after a failure, tasks still running must not hold the exit
    await closeDefaultPools();
  }
}

await main(process.argv);
