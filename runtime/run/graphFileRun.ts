/**
 * One run pipeline, from "a graph file and options" to "a run and what came of it", shared by
 * the CLI (`skein run`) and the runner the VS Code extension starts: load the file, settle the
 * keys and the configuration, compile the graph once (culled to what the keys need), then run it
 * with the caller's callbacks, and turn a recorder's measurements into a record.
 */
import type { Callback } from '../core/callbacks.js';
import { availableParallelism } from 'node:os';
import { type SkeinConfig, configuredValue, resolveConfig, runOptions, runWorkers } from '../core/config.js';
import { prepareGraph } from '../core/local.js';
import type { Recorder } from '../diagnostics/recorder.js';
import type { RunRecord } from '../diagnostics/recordSchema.js';
import type { CompiledGraph } from '../graph/compile.js';
import type { Key } from '../graph/spec.js';
import { type LoadedGraph, loadGraphFile } from '../loader/loadGraph.js';
import { get } from '../schedule.js';

export interface GraphFileOptions {
  readonly scheduler?: string;
  readonly numWorkers?: number | null;
  /** Distributed: tasks each worker runs at once (default: Dask's sizing of a local cluster). */
  readonly threadsPerWorker?: number;
  /** Keys to compute; default: the graph's outputs (or the file's delayed values). */
  readonly keys?: readonly Key[];
  /** Distributed: told the dashboard's URL of the cluster started for the run, once it is up. */
  readonly onDashboard?: (link: string) => void;
}

/** What a run produced: the values of the keys, or the failure; and how long it took. */
export interface RunOutcome {
  readonly values: unknown[];
  readonly failure: unknown;
  readonly elapsedMs: number;
}

export interface GraphFileRun {
  readonly loaded: LoadedGraph;
  readonly keys: readonly Key[];
  /** The graph the run computes: compiled once, only what `keys` need. */
  readonly graph: CompiledGraph;
  readonly cfg: SkeinConfig;
  /** Workers the run uses (1 under sync). */
  readonly numWorkers: number;
  /** Under distributed: threads per worker of the LocalCluster the run starts. */
  readonly threadsPerWorker: number | undefined;
  /** Runs the graph; never rejects: a failure is in the outcome. */
  run(callbacks: readonly Callback[], signal?: AbortSignal): Promise<RunOutcome>;
  /** The record of a run a `recorder` measured, or undefined when nothing ran. */
  record(recorder: Recorder, outcome: RunOutcome): RunRecord | undefined;
}

/** Loads `file` and prepares its run; rejects for bad options, a missing file or a bad graph. */
export async function loadGraphFileRun(file: string, options: GraphFileOptions = {}): Promise<GraphFileRun> {
  const perCall = runOptions(options.scheduler, options.numWorkers);
  const cfg = resolveConfig(perCall); // validates before any user code loads
  const loaded = await loadGraphFile(file);
  const keys = options.keys !== undefined && options.keys.length > 0 ? [...options.keys] : [...loaded.keys];
  const { graph } = prepareGraph(loaded.compiled ?? loaded.graph, keys); // compiled once; again only when culled
  let numWorkers = runWorkers(cfg);
  let threadsPerWorker: number | undefined;
  if (cfg.scheduler === 'distributed') {
    // the LocalCluster this run starts, sized as Dask sizes one, by the options or the configuration
    const { defaultSizing } = await import('../distributed/cluster.js');
    const sizing = defaultSizing(availableParallelism(), options.numWorkers ?? configuredValue('numWorkers') ?? undefined, options.threadsPerWorker ?? configuredValue('threadsPerWorker'));
    numWorkers = sizing.nWorkers;
    threadsPerWorker = sizing.threadsPerWorker;
  }
  const sized = { ...options, numWorkers, threadsPerWorker };
  return {
    loaded,
    keys,
    graph,
    cfg,
    numWorkers,
    threadsPerWorker,
    async run(callbacks, signal) {
      const started = performance.now();
      // distributed with no client open: a LocalCluster for this run, closed after it
      const client = cfg.scheduler === 'distributed' ? await startClient(sized) : undefined;
      try {
        const values = (await get(graph, keys, { ...perCall, callbacks: [...callbacks], signal })) as unknown[];
        return { values, failure: undefined, elapsedMs: performance.now() - started };
      } catch (failure) {
        return { values: [], failure, elapsedMs: performance.now() - started };
      } finally {
        await client?.close();
      }
    },
    record(recorder, outcome) {
      try {
        return recorder.toRecord({ graphFile: loaded.file, scheduler: cfg.scheduler, numWorkers, keys, error: outcome.failure, elapsedMs: outcome.elapsedMs }, outcome.values);
      } catch (error) {
        if (outcome.failure !== undefined) return undefined; // the run failed before it started: nothing was measured
        throw error;
      }
    },
  };
}

/** A client (and its LocalCluster) for a distributed run, unless one is open already. */
async function startClient(options: GraphFileOptions): Promise<{ close(): Promise<void> } | undefined> {
  const { Client } = await import('../distributed/client.js');
  if (Client.current() !== undefined) return undefined;
  const client = new Client({ nWorkers: options.numWorkers ?? undefined, threadsPerWorker: options.threadsPerWorker });
  const { onDashboard } = options;
  if (onDashboard !== undefined) void client.ready.then(() => client.dashboardLink !== undefined && onDashboard(client.dashboardLink), () => undefined);
  return client;
}
