/**
 * `get` and `compute` on a distributed client. The graph is checked and ordered as for the local
 * schedulers (missing keys, cycles, bad heads: the same errors), submitted, and its results
 * gathered from the workers. When callbacks are given, the run follows the scheduler's events
 * for its tasks and replays them on a local state record of the core's kind (core/state.ts):
 * the same named transitions, the same log, the same callbacks in the same order, so the
 * profiler, the recorder, the progress bar and the panel work as with every other scheduler.
 * Values stay on the workers unless a posttask callback asks to see each one.
 */
import type { Callback } from '../core/callbacks.js';
import { flattenKeys, prepareGraph } from '../core/local.js';
import { type SchedulerState, TaskStatus, failTask, finishTask, startStateFromGraph, startTask } from '../core/state.js';
import { workerId } from '../core/timings.js';
import { Errors } from '../errors.js';
import { type CompiledGraph, GraphView } from '../graph/compile.js';
import { orderCompiled } from '../graph/order.js';
import type { Graph, Key } from '../graph/spec.js';
import { fromWireError } from '../schedulers/batchExecutor.js';
import { type Client, fromWire } from './client.js';
import { encodeGraph } from './encode.js';
import type { TaskEvent } from './protocol.js';

type NestedKeys = Key | readonly NestedKeys[];

export interface DistributedRunOptions {
  readonly callbacks: readonly Callback[];
  readonly signal?: AbortSignal;
  readonly validate?: boolean;
}

/** Runs `source` on `client` and resolves to the values of `keys` (nested arrays mirrored). */
export async function runOnClient(client: Client, source: Graph | CompiledGraph, keys: NestedKeys, options: DistributedRunOptions): Promise<unknown> {
  const { callbacks, signal } = options;
  const flat = flattenKeys(keys, []);
  const { graph } = prepareGraph(source, flat);
  const priority = orderCompiled(graph);
  const isResult = new Uint8Array(graph.size);
  for (const k of flat) isResult[graph.index.get(k)!] = 1;
  const dsk = new GraphView(graph);
  const follow = callbacks.length > 0;
  const wantValues = callbacks.some((cb) => cb.posttask !== undefined);
  const measure = callbacks.some((cb) => cb.timings === true);
  let state: SchedulerState | undefined;
  let failure: unknown;
  const finishedKeys = (): Key[] => (state === undefined ? [] : state.finished.map((t) => graph.keys[t]!));
  const wanted = [...new Set(flat)];
  let submitted = false;
  let stopFollowing: (() => void) | undefined;
  let cancelled: (() => void) | undefined;
  const onAbort = (): void => cancelled?.();
  try {
    for (const cb of callbacks) cb.start?.(dsk);
    state = startStateFromGraph(graph, priority, isResult, measure, options.validate === true || callbacks.some((cb) => cb.transitions === true));
    for (const cb of callbacks) cb.startState?.(dsk, state);
    if (signal?.aborted) throw Errors.cancelled(signal.reason, []);
    const specs = await encodeGraph(graph, priority, client.nextPriorityBase());
    if (signal?.aborted) throw Errors.cancelled(signal.reason, []);
    const replay = follow ? new Replay(state, callbacks, dsk) : undefined;
    if (replay !== undefined) stopFollowing = client.follow((events) => replay.apply(events));
    const aborted = new Promise<never>((_, reject) => {
      cancelled = () => reject(Errors.cancelled(signal!.reason, finishedKeys()));
    });
    aborted.catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    await client.submitSpecs(specs, wanted, { events: follow, values: wantValues });
    submitted = true;
    const values = await Promise.race([client.gatherKeys(wanted, finishedKeys), aborted]);
    await replay?.settled(wanted.map((k) => graph.index.get(k)!));
    if (replay?.failure !== undefined) throw replay.failure;
    const pack = (k: NestedKeys): unknown => (typeof k === 'string' ? values.get(k) : k.map(pack));
    return pack(keys);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stopFollowing?.();
    if (submitted) {
      if (failure !== undefined && !(failure instanceof Error && 'key' in failure)) await client.cancelKeys(wanted);
      client.releaseKeys(wanted);
    }
    if (state !== undefined) for (const cb of callbacks) cb.finish?.(dsk, state, failure !== undefined);
  }
}

/** Replays the scheduler's events on the local state record, with the callbacks. */
class Replay {
  failure: unknown;
  readonly #pending: Promise<void>[] = [];
  #chain: Promise<void> = Promise.resolve();
  readonly #classes = new Map<string, Function>();

  constructor(
    private readonly state: SchedulerState,
    private readonly callbacks: readonly Callback[],
    private readonly dsk: GraphView,
  ) {}

  apply(events: readonly TaskEvent[]): void {
    // in order; a value with class instances is restored (imports) before the next event
    this.#chain = this.#chain.then(() => this.#applyAll(events));
  }

  async #applyAll(events: readonly TaskEvent[]): Promise<void> {
    const { state } = this;
    const { graph, timings } = state;
    for (const e of events) {
      const t = graph.index.get(e.key);
      if (t === undefined) continue;
      const status = state.status[t]!;
      if (e.state === 'processing') {
        if (status !== TaskStatus.ready && status !== TaskStatus.waiting) continue; // a re-run: the record shows the first
        startTask(state, t, e.time);
        if (timings !== undefined) timings.dispatched[t] = e.time;
        for (const cb of this.callbacks) cb.pretask?.(e.key, this.dsk, state);
      } else if (e.state === 'memory') {
        if (status !== TaskStatus.running) continue;
        if (timings !== undefined) {
          timings.started[t] = e.start;
          timings.finished[t] = e.end;
          timings.busy[t] = e.end - e.start;
          timings.worker[t] = workerId(timings, e.thread);
        }
        const value = e.value === undefined ? undefined : await fromWire(e.value, this.#classes);
        finishTask(state, t, value, e.time);
        for (const cb of this.callbacks) cb.posttask?.(e.key, value, this.dsk, state, e.thread);
      } else if (e.state === 'erred') {
        if (status !== TaskStatus.running) continue;
        if (timings !== undefined && e.start !== undefined && e.end !== undefined) {
          timings.started[t] = e.start;
          timings.finished[t] = e.end;
          if (e.thread !== undefined) timings.worker[t] = workerId(timings, e.thread);
        }
        failTask(state, t, e.time);
        this.failure ??= Errors.taskFailed(e.key, fromWireError(e.error), state.finished.map((f) => graph.keys[f]!));
      }
    }
  }

  /** Waits until the events of `tasks` have been replayed (they may trail the results). */
  async settled(tasks: readonly number[]): Promise<void> {
    const deadline = Date.now() + 5000;
    const done = (): boolean => tasks.every((t) => this.state.status[t] === TaskStatus.memory || this.state.status[t] === TaskStatus.erred);
    while (!done() && Date.now() < deadline) {
      await this.#chain;
      if (done()) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await this.#chain;
  }
}
