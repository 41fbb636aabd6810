/**
 * The scheduler server: listens for workers and clients, turns each message into a stimulus of
 * the state machine (schedulerState.ts), and sends the messages it returns. It also watches
 * liveness: a worker whose connection closes is removed at once, one that stops sending
 * heartbeats for `workerTtlMs` is removed too.
 */
import { clock } from '../core/timings.js';
import { resolveConfig } from '../core/config.js';
import { type Comm, type Listener, type Transport, overNats } from './comm.js';
import type { ToClient, ToScheduler, ToWorker } from './protocol.js';
import { requestProblem } from './requests.js';
import { MEMORY_HISTORY, type Outbox, SchedulerState } from './schedulerState.js';
import { type ProfileNode, emptyNode, mergeInto } from '../diagnostics/flame.js';
import { runExported } from './runExported.js';
import { performanceData } from './dashboard.js';
import { type PluginScheduler, type PluginStatus, type SchedulerPlugin, type WirePlugin, callPlugin, fromWirePlugin } from './plugins.js';
import type { PluginReply } from './protocol.js';
import type { QueueFeeder } from './natsQueue.js';
import type { Journal, JournalRecord } from './natsJournal.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TaskSpec } from './protocol.js';
import { randomBytes } from 'node:crypto';

export interface SchedulerOptions {
  readonly listen: string;
  readonly transport: Transport;
  readonly validate?: boolean;
  readonly allowedFailures?: number;
  /** A worker silent this long is considered dead (ms). */
  readonly workerTtlMs?: number;
  /** Never keep this process alive by itself (a LocalCluster in a user's script). */
  readonly unref?: boolean;
}

type AnyComm = Comm<ToScheduler, ToWorker | ToClient>;

/** A client of a journal taken up that has not joined again after this long lets go of its keys. */
const CLIENT_RETURN_MS = 60_000;

export class Scheduler {
  readonly state: SchedulerState;
  readonly #workers = new Map<string, Comm<ToScheduler, ToWorker>>();
  readonly #clients = new Map<string, Comm<ToScheduler, ToClient>>();
  #listener: Listener | undefined;
  #stimulus = 0;
  #sweep: NodeJS.Timeout | undefined;
  /**
   * The workers' sampled profile since the scheduler started (workers started with profiling):
   * one call tree, `version` counting the additions.
   */
  readonly profile: { on: boolean; intervalMs: number; root: ProfileNode; version: number } = { on: false, intervalMs: 0, root: emptyNode(), version: 0 };
  /** The dashboard serving this scheduler, if any: clients that join are told (their `dashboardLink`). */
  dashboardLink: string | undefined;
  /** Called when a worker registers or leaves (the cluster waits on it). */
  onWorkersChanged: (() => void) | undefined;

  constructor(readonly options: SchedulerOptions) {
    this.state = new SchedulerState({ validate: options.validate, allowedFailures: options.allowedFailures ?? resolveConfig().allowedFailures });
  }

  get address(): string {
    return this.#listener?.address ?? '';
  }

  async start(): Promise<void> {
    // over NATS, the journal of a scheduler before this one is read before anyone is served
    if (overNats(this.options.listen)) this.#recovering = { records: [], held: new Map(), deferred: [] };
    this.#listener = await this.options.transport.listen<ToScheduler, ToWorker | ToClient>(this.options.listen, (comm) => this.#accept(comm), { unref: this.options.unref });
    const ttl = this.options.workerTtlMs ?? 30_000;
    this.#sweep = setInterval(() => {
      for (const ws of [...this.state.workers.values()]) if (this.#silentFor(ws.address) > ttl) this.#workerGone(ws.address, 'silent');
    }, Math.min(ttl, 1000));
    this.#sweep.unref();
    // over NATS: workers whose key in the liveness bucket expired are gone (natsLiveness.ts)
    if (overNats(this.options.listen)) {
      const { processConnection, parseNatsAddress, announceScheduler } = await import('./natsComm.js');
      const nc = await processConnection();
      if (nc !== undefined) {
        const prefix = parseNatsAddress(this.options.listen).prefix;
        const { sweepLiveness } = await import('./natsLiveness.js');
        this.#stopLiveness = await sweepLiveness(nc, this.options.listen, () => this.#joined, (address) => this.#workerGone(address, 'expired'));
        // ready tasks beyond the workers' room wait in JetStream, for any worker to claim (natsQueue.ts)
        const { openQueueFeeder } = await import('./natsQueue.js');
        this.#queue = await openQueueFeeder(nc, prefix).catch(() => undefined);
        if (this.#queue !== undefined) this.state.sharedQueue = true;
        const { openJournal } = await import('./natsJournal.js');
        const opened = await openJournal(nc, prefix).catch(() => undefined);
        this.#journal = opened?.journal;
        // workers and clients of a scheduler before this one hear of this one at once (not after their liveness)
        const announce = (): void => announceScheduler(nc, this.options.listen, this.instance);
        announce();
        if (opened !== undefined && opened.replayed.length > 0 && this.#recovering !== undefined) {
          this.#recovering.records = opened.replayed;
          await this.#awaitWorkers(nc, announce);
        }
      }
    }
    this.#endRecovery();
  }

  /** This scheduler's own id: workers and clients of one before it know it is another. */
  readonly instance = randomBytes(8).toString('hex');
  #journal: Journal | undefined;
  /**
   * Set while this scheduler takes up the journal of the one before it: workers join (saying
   * which results they kept), everything else waits in `deferred`.
   */
  #recovering: { records: JournalRecord[]; readonly held: Map<string, ReadonlyArray<readonly [string, number]>>; readonly deferred: Array<() => void> } | undefined;
  /** Replaying the journal: nothing is appended, and it is not purged even when the tasks run out. */
  #replaying = false;

  /**
   * Waits for the workers alive in the liveness bucket (their keys kept up while they looked for a
   * scheduler) to join, for twice `nats.livenessMs` at most, announcing this scheduler each second.
   */
  async #awaitWorkers(nc: NatsConnection, announce: () => void): Promise<void> {
    const { liveWorkerKeys, livenessKey } = await import('./natsLiveness.js');
    const until = Date.now() + Math.max(5000, 2 * resolveConfig()['nats.livenessMs']);
    let announced = Date.now();
    while (Date.now() < until && !this.#closing) {
      const live = await liveWorkerKeys(nc, this.options.listen).catch(() => undefined);
      if (live === undefined) return;
      const joined = new Set([...this.#workers.keys()].map((a) => livenessKey(a)));
      if ([...live].every((k) => joined.has(k))) return;
      if (Date.now() - announced >= 1000) {
        announce();
        announced = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The journal taken up (or none), what waited is served. */
  #endRecovery(): void {
    const r = this.#recovering;
    if (r === undefined) return;
    this.#recovering = undefined;
    if (r.records.length > 0) this.#replay(r.records, r.held);
    for (const step of r.deferred) step();
  }

  /**
   * The journal of the scheduler before this one, taken up: results the workers kept that it says
   * were computed are known again where they are, then its graphs, scatters, releases and departed
   * clients are applied in their order (what is done is not computed again). A client of the
   * journal that does not join again within CLIENT_RETURN_MS lets go of its keys.
   */
  #replay(records: readonly JournalRecord[], held: ReadonlyMap<string, ReadonlyArray<readonly [string, number]>>): void {
    const st = this.state;
    const specs = new Map<string, TaskSpec>();
    const done = new Set<string>();
    for (const r of records) {
      if (r.t === 'graph') for (const t of r.tasks) specs.set(t.key, t);
      else if (r.t === 'scatter') for (const key of r.keys) (specs.set(key, { key, task: null, fns: [], deps: [], priority: 0 }), done.add(key));
      else if (r.t === 'done') for (const key of r.keys) done.add(key);
    }
    this.#replaying = true;
    let kept = 0;
    try {
      for (const [address, keys] of held) {
        if (!st.workers.has(address)) continue;
        const keep = keys.filter(([key]) => done.has(key) && specs.has(key));
        kept += keep.length;
        this.#send(st.restoreHeld(address, keep, specs, this.#id('restore-held')));
        const unknown = keys.filter(([key]) => !(done.has(key) && specs.has(key))).map(([key]) => key);
        if (unknown.length > 0) this.#workers.get(address)?.send({ op: 'free-keys', keys: unknown });
      }
      const follow = { events: false, values: false };
      for (const r of records) {
        if (r.t === 'graph') this.#send(st.updateGraph(r.client, r.tasks, r.wanted, follow, this.#id('journal-graph')));
        else if (r.t === 'scatter') this.#send(st.updateGraph(r.client, [], r.keys, follow, this.#id('journal-scatter')));
        else if (r.t === 'release') this.#send(st.releaseKeys(r.client, r.keys, this.#id('journal-release')));
        else if (r.t === 'client-gone') this.#send(st.releaseKeys(r.client, this.#keysOf(r.client), this.#id('journal-client-gone')));
      }
      this.#send(st.releaseUnneeded(this.#id('journal-taken-up')));
    } finally {
      this.#replaying = false;
    }
    const clients = new Set<string>();
    for (const ts of st.tasks.values()) for (const c of ts.whoWants) clients.add(c);
    for (const client of clients) {
      setTimeout(() => {
        if (this.#clients.has(client) || this.#closing) return;
        this.#journal?.append({ t: 'client-gone', client });
        this.#send(st.releaseKeys(client, this.#keysOf(client), this.#id('client-not-back')));
      }, CLIENT_RETURN_MS).unref();
    }
    let computing = 0;
    for (const ts of st.tasks.values()) if (ts.state !== 'memory' && ts.state !== 'erred') computing++;
    process.stderr.write(`skein scheduler: took up the journal of the scheduler before this one: ${records.filter((r) => r.t === 'graph').length} graphs, ${kept} ${kept === 1 ? 'result' : 'results'} kept by ${held.size} ${held.size === 1 ? 'worker' : 'workers'}, ${computing} ${computing === 1 ? 'task' : 'tasks'} to compute, ${clients.size} ${clients.size === 1 ? 'client' : 'clients'} to join again\n`);
    if (st.tasks.size === 0) this.#journal?.reset();
  }

  /**
   * How long the worker at `address` has said nothing (ms): no message, and where the transport
   * has them no ping either (its messages may be waiting in a NATS stream that elects a leader).
   */
  #silentFor(address: string): number {
    const heard = this.#workers.get(address)?.heardAt?.();
    const ws = this.state.workers.get(address);
    return Math.min(heard === undefined ? Infinity : Date.now() - heard, ws === undefined ? Infinity : clock() - ws.lastSeen);
  }

  /** The keys `client` holds futures for. */
  #keysOf(client: string): string[] {
    const keys: string[] = [];
    for (const ts of this.state.tasks.values()) if (ts.whoWants.has(client)) keys.push(ts.key);
    return keys;
  }

  /** When each worker joined (by data address): the liveness sweep spares those younger than a key's lifetime. */
  readonly #joined = new Map<string, number>();
  #stopLiveness: (() => void) | undefined;
  #queue: QueueFeeder | undefined;

  #closing = false;

  async close(): Promise<void> {
    this.#closing = true;
    this.#recovering = undefined;
    clearInterval(this.#sweep);
    this.#stopLiveness?.();
    await this.#queue?.close();
    // closed on purpose: its clients are told, and no scheduler after it takes its work up
    this.#journal?.reset();
    await this.#journal?.close();
    for (const [name, plugin] of this.#schedulerPlugins) await this.#closePlugin(name, plugin);
    this.#schedulerPlugins.clear();
    for (const c of this.#clients.values()) {
      c.send({ op: 'closing' });
      c.close();
    }
    for (const w of this.#workers.values()) {
      w.send({ op: 'close' });
      w.close();
    }
    await this.#listener?.close();
  }

  #id(op: string): string {
    return `${op}-${++this.#stimulus}`;
  }

  #accept(comm: AnyComm): void {
    let worker: string | undefined;
    let client: string | undefined;
    comm.onMessage((message) => {
      // a malformed request is answered, never acted on: the scheduler does not die of one
      const problem = requestProblem(message, worker !== undefined);
      if (problem !== undefined) return this.#refuse(comm, message, problem);
      // taking up a journal: clients wait until it is done (workers join meanwhile)
      if (this.#recovering !== undefined && worker === undefined && message.op !== 'register-worker') {
        this.#recovering.deferred.push(() => comm.closed || dispatch(message));
        return;
      }
      dispatch(message);
    });
    const dispatch = (message: ToScheduler): void => {
      try {
        serve(message);
      } catch (error) {
        this.#internalError(message, error);
        const id = (message as { id?: unknown }).id;
        if (typeof id === 'number') (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id, value: undefined, error: `the scheduler failed on ${message.op} (a bug in Skein): ${error instanceof Error ? error.message : String(error)}` });
      }
    };
    const serve = (message: ToScheduler): void => {
      switch (message.op) {
        case 'register-worker': {
          // values travel V8-serialized and code is shipped bundled for this Node.js: one major version
          const major = (v: string): string => v.split('.')[0]!;
          if (message.node !== undefined && major(message.node) !== major(process.versions.node)) {
            (comm as Comm<ToScheduler, ToWorker>).send({
              op: 'refused',
              reason: `worker ${message.name} runs Node.js ${message.node} and the scheduler ${process.versions.node}: a cluster runs one major version (values travel in V8's serialization, code is shipped bundled for it). Start the worker with Node.js ${major(process.versions.node)}.`,
            });
            comm.close();
            return;
          }
          worker = message.dataAddress;
          // the same worker joining again before its old line was found dead: that line is gone now
          if (this.#workers.has(worker)) this.#workerGone(worker, 'rejoined');
          this.#workers.set(worker, comm as Comm<ToScheduler, ToWorker>);
          this.#joined.set(worker, Date.now());
          (comm as Comm<ToScheduler, ToWorker>).send({ op: 'registered', address: worker, instance: this.instance, name: message.name, plugins: [...this.#workerPlugins.values()], clock: clock(), echo: message.clock });
          this.#send(this.state.addWorker({ address: worker, name: message.name, pid: message.pid, nthreads: message.nthreads, memoryLimit: message.memoryLimit }, this.#id('add-worker')));
          // results it kept from a scheduler before this one: taken up with the journal, else let go
          if (message.held !== undefined && message.held.length > 0) {
            if (this.#recovering !== undefined) this.#recovering.held.set(worker, message.held);
            else (comm as Comm<ToScheduler, ToWorker>).send({ op: 'free-keys', keys: message.held.map(([key]) => key) });
          }
          this.#notify('addWorker', (p) => p.addWorker?.(this.#view, worker!));
          this.onWorkersChanged?.();
          return;
        }
        case 'register-client': {
          client = message.client;
          const c = comm as Comm<ToScheduler, ToClient>;
          this.#clients.set(client, c);
          // a client joining again (this scheduler took up the journal of the one it knew): where its futures are
          const known = this.#keysOf(client);
          c.send({ op: 'welcome', instance: this.instance, journal: this.#journal !== undefined, known, ...(this.dashboardLink !== undefined ? { dashboard: this.dashboardLink } : {}) });
          for (const m of this.state.whereAre(known)) c.send(m);
          return;
        }
        case 'who-has':
        case 'scheduler-info':
        case 'story':
        case 'has-what':
        case 'task-stream':
        case 'get-profile':
        case 'performance-data':
          (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id: message.id, value: this.reply(message) });
          return;
        case 'restart':
          void this.restart(30_000, this.restartInprocess).then(
            () => (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id: message.id, value: { ok: true } }),
            (error: unknown) => (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id: message.id, value: { ok: false, message: error instanceof Error ? error.message : String(error) } }),
          );
          return;
        case 'run-on-scheduler':
          void runExported(message.fn, message.args, this.options.unref !== true).then((outcome) => (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id: message.id, value: outcome }));
          return;
        case 'register-plugin':
        case 'unregister-plugin': {
          const answer = (value: PluginReply) => (comm as Comm<ToScheduler, ToClient>).send({ op: 'reply', id: message.id, value });
          const work = message.op === 'register-plugin' ? this.registerPlugin(message.plugin) : this.unregisterPlugin(message.name);
          void work.then(answer, (error: unknown) => answer({ ok: false, message: error instanceof Error ? error.message : String(error) }));
          return;
        }
        default:
          try {
            this.#handle(message, worker);
          } catch (error) {
            this.#internalError(message, error);
          }
      }
    };
    comm.onClose(() => {
      // (a worker that joined again on another line is not this line's to remove)
      if (worker !== undefined && (this.#workers.get(worker) ?? comm) === comm) this.#workerGone(worker, 'closed');
      if (client !== undefined) {
        this.#clients.delete(client);
        this.#journal?.append({ t: 'client-gone', client });
        // a client that went away lets go of everything it held
        this.#send(this.state.releaseKeys(client, this.#keysOf(client), this.#id('client-gone')));
      }
    });
  }

  /** Answers a malformed request with why (to the request's id when it has one). */
  #refuse(comm: AnyComm, message: unknown, problem: string): void {
    const m = (message ?? {}) as { op?: unknown; id?: unknown };
    const c = comm as Comm<ToScheduler, ToClient>;
    // a graph refused: the keys its client waits for fail, saying why (it does not wait for ever)
    const wanted = (message as { wanted?: unknown }).wanted;
    if (m.op === 'update-graph' && Array.isArray(wanted) && wanted.every((k) => typeof k === 'string')) {
      const error = { name: 'SkeinError', message: `The scheduler refused this graph: ${problem}`, props: { code: 'REQUEST_REFUSED' } };
      for (const key of wanted as string[]) c.send({ op: 'task-erred', key, root: key, error });
      return;
    }
    if (typeof m.id === 'number') c.send({ op: 'reply', id: m.id, value: undefined, error: problem });
    else c.send({ op: 'request-refused', request: typeof m.op === 'string' ? m.op.slice(0, 100) : String(m.op), message: problem });
  }

  /**
   * A stimulus that threw is a bug in Skein: said on stderr with the message that caused it, and
   * the client that sent a graph hears it as the failure of the keys it wanted, instead of
   * waiting forever. The scheduler goes on serving.
   */
  #internalError(message: ToScheduler, error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`skein scheduler: handling ${message.op} failed; this is a bug in Skein: ${text}\n`);
    if (message.op !== 'update-graph') return;
    const comm = this.#clients.get(message.client);
    const wire = { name: 'SkeinError', message: `The scheduler failed while taking this graph (a bug in Skein): ${error instanceof Error ? error.message : String(error)}`, props: { code: 'SCHEDULER_ERROR' } };
    for (const key of message.wanted) comm?.send({ op: 'task-erred', key, root: key, error: wire });
  }

  #workerGone(address: string, how: string): void {
    const comm = this.#workers.get(address);
    if (comm === undefined && !this.state.workers.has(address)) return;
    this.#workers.delete(address);
    this.#joined.delete(address);
    // the state first: closing the comm calls this again, which must then find nothing to do
    this.#send(this.state.removeWorker(address, this.#id(`remove-worker-${how}`)));
    comm?.close();
    for (const request of this.#pluginRequests.values()) request.left(address);
    this.#notify('removeWorker', (p) => p.removeWorker?.(this.#view, address));
    this.onWorkersChanged?.();
  }

  #handle(message: ToScheduler, worker: string | undefined): void {
    const st = this.state;
    switch (message.op) {
      case 'update-graph':
        this.#journal?.append({ t: 'graph', client: message.client, tasks: message.tasks, wanted: message.wanted });
        // plugins hear of the graph before its first transitions (as in Dask)
        if (this.#schedulerPlugins.size > 0) {
          const update = { client: message.client, keys: message.tasks.map((t) => t.key) };
          this.#notify('updateGraph', (p) => p.updateGraph?.(this.#view, update));
        }
        return this.#send(st.updateGraph(message.client, message.tasks, message.wanted, { events: message.events, values: message.values }, this.#id('update-graph')));
      case 'scatter':
        this.#journal?.append({ t: 'scatter', client: message.client, keys: message.keys });
        return this.#send(st.scatter(message.client, message.keys, message.nbytes, message.worker, this.#id('scatter')));
      case 'release-keys':
        this.#journal?.append({ t: 'release', client: message.client, keys: message.keys });
        return this.#send(st.releaseKeys(message.client, message.keys, this.#id('release-keys')));
      case 'cancel-keys':
        this.#journal?.append({ t: 'release', client: message.client, keys: message.keys });
        return this.#send(st.cancelKeys(message.client, message.keys, this.#id('cancel-keys')));
      case 'retry-keys':
        return this.#send(st.retryKeys(message.client, message.keys, this.#id('retry-keys')));
      case 'who-has':
      case 'scheduler-info':
      case 'story':
      case 'has-what':
      case 'task-stream':
      case 'get-profile':
      case 'performance-data':
      case 'run-on-scheduler':
      case 'restart':
      case 'register-plugin':
      case 'unregister-plugin':
        return; // answered by #accept (they need the client's comm)
      case 'plugin-result': {
        const ws = st.workers.get(worker!);
        const status: PluginStatus = message.error === undefined ? { ok: true } : { ok: false, error: message.error.message };
        if (message.id === 0) {
          // a worker that joined set up the plugins registered before it: nobody waits, so a failure is said here
          if (ws !== undefined) ws.plugins.set(message.name, status);
          if (!status.ok) process.stderr.write(`skein scheduler: worker ${ws?.name ?? worker} joined, but its worker ${status.error}\n`);
        } else this.#pluginRequests.get(message.id)?.answered(worker!, status);
        return;
      }
      case 'task-finished':
        return this.#send(st.taskFinished(worker!, message.key, message.nbytes, message, message.value, this.#id(`task-finished-${message.key}`)));
      case 'task-erred':
        return this.#send(st.taskErred(worker!, message.key, message.error, message, this.#id(`task-erred-${message.key}`)));
      case 'claim': {
        // a worker that ran the task is taken as dead for it when JetStream delivered its message
        // again and the worker has said nothing (its pings included) for the queue's silenceMs
        return this.#send(st.claimTasks(worker!, message.claims, (address) => this.#silentFor(address), this.#queue?.silenceMs ?? Infinity, this.#id('claim')));
      }
      case 'steal-response':
        return this.#send(st.stealResponse(worker!, message.key, message.stolen, this.#id('steal-response')));
      case 'missing-data':
        return this.#send(st.missingData(worker!, message.key, message.dep, message.holder, this.#id('missing-data')));
      case 'heartbeat': {
        const ws = worker === undefined ? undefined : st.workers.get(worker);
        // the worker keeps its clock's offset from this one's up to date from these
        this.#workers.get(worker!)?.send({ op: 'clock', clock: clock(), echo: message.clock });
        if (ws !== undefined) {
          ws.lastSeen = clock();
          ws.clockOffset = message.offset;
          ws.memory = message.memory;
          ws.executing = message.executing;
          ws.cpu = message.cpu;
          ws.managed = message.managed;
          ws.spilled = message.spilled;
          for (const [holder, bytes] of message.received ?? []) ws.receivedFrom.set(holder, (ws.receivedFrom.get(holder) ?? 0) + bytes);
          ws.history.push([Date.now(), message.memory, message.managed, message.spilled]);
          if (ws.history.length > MEMORY_HISTORY) ws.history.splice(0, ws.history.length - MEMORY_HISTORY);
        }
        return;
      }
      case 'keys-added':
        // a key no holder had any more is asked of another worker while its retirement lasts
        return this.#send(st.keysAdded(worker!, message.keys, this.#id('keys-added'), message.missing));
      case 'worker-paused':
        return this.#send(st.pauseWorker(worker!, message.paused, this.#id(message.paused ? 'worker-paused' : 'worker-resumed')));
      case 'memory-exceeded': {
        // its connection closes next: the tasks it ran then hear why it went
        const ws = st.workers.get(worker!);
        if (ws !== undefined) ws.killedForMemory = { memory: message.memory, limit: message.limit, terminate: message.terminate };
        return;
      }
      case 'profile':
        mergeInto(this.profile.root, message.root);
        this.profile.intervalMs = message.intervalMs;
        this.profile.on = true;
        this.profile.version++;
        return;
      case 'register-client':
      case 'register-worker':
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Cancels every future and tells every worker to stop: their supervisors (the nanny, `skein
   * worker`) start them again. Resolves when as many workers as there were have joined again, new
   * ones all; rejects after `timeoutMs` saying how many came back. `inprocess`: workers that are
   * not processes are closed and started again by the caller instead.
   */
  async restart(timeoutMs = 30_000, inprocess?: () => Promise<void>): Promise<void> {
    const before = new Set(this.state.workers.keys());
    const n = before.size;
    this.#send(this.state.restart(this.#id('restart')));
    if (inprocess !== undefined) await inprocess();
    else for (const w of this.#workers.values()) w.send({ op: 'close' });
    // until the old ones are gone (their connections close a moment later) and as many new ones joined
    const end = Date.now() + timeoutMs;
    for (;;) {
      const now = [...this.state.workers.keys()];
      if (now.length === n && now.every((a) => !before.has(a))) return;
      if (Date.now() > end) throw new Error(`restart: ${now.filter((a) => !before.has(a)).length} of ${n} workers came back within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts in-process workers again (a `processes: false` LocalCluster sets it: they have no supervisor). */
  restartInprocess: (() => Promise<void>) | undefined;

  /**
   * Retires workers without losing anything (Dask's RetireWorker): they get no new task, what they
   * run finishes, and every result only they hold is copied to a worker that stays, those they
   * finish meanwhile too; resolves when they may go (or after `timeoutMs`: what was not copied is
   * computed again if it is needed). The caller then stops them.
   */
  async retire(addresses: readonly string[], timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    this.#send(this.state.retireWorkers(addresses, this.#id('retire-workers')));
    while (!this.#closing) {
      const { out, done } = this.state.retireProgress(addresses, this.#id('retire-progress'));
      this.#send(out);
      if (done || Date.now() > end) return;
      // a ref'd timer: the program waits for the copies
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // ---- plugins ----------------------------------------------------------------------------

  /** Worker plugins, sent to every worker as it joins. */
  readonly #workerPlugins = new Map<string, WirePlugin>();
  readonly #schedulerPlugins = new Map<string, SchedulerPlugin>();
  /** Plugin requests waiting for workers' answers, by id. */
  readonly #pluginRequests = new Map<number, { answered: (worker: string, status: PluginStatus) => void; left: (worker: string) => void }>();
  #lastPluginRequest = 0;
  /** Plugin methods that threw once: said on stderr that first time only. */
  readonly #pluginFailures = new Set<string>();

  /** What a scheduler plugin's methods get. */
  readonly #view: PluginScheduler = ((scheduler: Scheduler) => ({
    get address() {
      return scheduler.address;
    },
    workers: () => scheduler.state.workerInfo(),
    story: (key: string) => scheduler.state.story(key),
  }))(this);

  /**
   * Registers a plugin (replacing one of the same name). A worker plugin is set up on every
   * worker (resolves with how it went on each); when its setup throws on any, it is torn down where
   * it was set up and not kept, and the reply names it, the workers and the error. A scheduler plugin
   * is started, and kept only if `start` does not throw.
   */
  async registerPlugin(wire: WirePlugin): Promise<PluginReply> {
    if (wire.kind === 'scheduler') {
      const plugin = await fromWirePlugin<SchedulerPlugin>(wire, this.options.unref !== true);
      const old = this.#schedulerPlugins.get(wire.name);
      if (old !== undefined) {
        this.#schedulerPlugins.delete(wire.name);
        await this.#closePlugin(wire.name, old);
      }
      const failed = await callPlugin(wire.name, 'start', () => plugin.start?.(this.#view));
      if (failed !== undefined) return { ok: false, message: `Scheduler ${failed.message}` };
      this.#schedulerPlugins.set(wire.name, plugin);
      this.#watchTransitions();
      return { ok: true };
    }
    this.#workerPlugins.set(wire.name, wire);
    const results = await this.#askWorkers((id) => ({ op: 'plugin-add', id, plugin: wire }));
    const failed = Object.entries(results).filter(([, s]) => !s.ok);
    for (const [address, status] of Object.entries(results)) this.state.workers.get(address)?.plugins.set(wire.name, status);
    if (failed.length === 0) return { ok: true, workers: results };
    // all or nothing: torn down where it was set up, not given to workers that join later
    if (this.#workerPlugins.get(wire.name) === wire) this.#workerPlugins.delete(wire.name);
    await this.#askWorkers((id) => ({ op: 'plugin-remove', id, name: wire.name }));
    for (const ws of this.state.workers.values()) ws.plugins.delete(wire.name);
    const names = failed.map(([address]) => this.state.workers.get(address)?.name ?? address).sort();
    const error = (failed[0]![1] as { error: string }).error;
    return { ok: false, message: `Worker ${error.replace(/^(plugin "[^"]*" failed in setup)/, `$1 on ${names.join(', ')}`)}` };
  }

  /** Tears a worker plugin down on every worker, or closes a scheduler plugin, and forgets it. */
  async unregisterPlugin(name: string): Promise<PluginReply> {
    const plugin = this.#schedulerPlugins.get(name);
    if (plugin !== undefined) {
      this.#schedulerPlugins.delete(name);
      this.#watchTransitions();
      await this.#closePlugin(name, plugin);
      return { ok: true };
    }
    if (!this.#workerPlugins.delete(name)) return { ok: false, message: `unregisterPlugin: no plugin named "${name}" is registered (registered: ${[...this.#workerPlugins.keys(), ...this.#schedulerPlugins.keys()].map((n) => `"${n}"`).join(', ') || 'none'}).` };
    const results = await this.#askWorkers((id) => ({ op: 'plugin-remove', id, name }));
    for (const ws of this.state.workers.values()) ws.plugins.delete(name);
    return { ok: true, workers: results };
  }

  /** Sends every worker a plugin message and waits for each to answer (or to leave). */
  #askWorkers(message: (id: number) => Extract<ToWorker, { op: 'plugin-add' | 'plugin-remove' }>): Promise<Record<string, PluginStatus>> {
    const id = ++this.#lastPluginRequest;
    const waiting = new Set(this.#workers.keys());
    const results: Record<string, PluginStatus> = {};
    return new Promise((resolve) => {
      const check = () => {
        if (waiting.size > 0) return;
        this.#pluginRequests.delete(id);
        resolve(results);
      };
      this.#pluginRequests.set(id, {
        answered: (worker, status) => {
          if (!waiting.delete(worker)) return;
          results[worker] = status;
          check();
        },
        left: (worker) => {
          waiting.delete(worker);
          check();
        },
      });
      for (const address of waiting) this.#workers.get(address)!.send(message(id));
      check();
    });
  }

  async #closePlugin(name: string, plugin: SchedulerPlugin): Promise<void> {
    const failed = await callPlugin(name, 'close', () => plugin.close?.());
    if (failed !== undefined) process.stderr.write(`skein scheduler: ${failed.message}\n`);
  }

  /** Calls a hook of every scheduler plugin; one that throws is said on stderr (the first time) and the scheduler goes on. */
  #notify(method: string, call: (plugin: SchedulerPlugin) => void): void {
    for (const [name, plugin] of this.#schedulerPlugins) {
      try {
        call(plugin);
      } catch (error) {
        const id = `${name}#${method}`;
        if (this.#pluginFailures.has(id)) continue;
        this.#pluginFailures.add(id);
        process.stderr.write(`skein scheduler: plugin "${name}" failed in ${method} (said once): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      }
    }
  }

  /** Transitions go to the plugins that have `transition`; none: the state machine calls nothing. */
  #watchTransitions(): void {
    const watching = [...this.#schedulerPlugins.values()].some((p) => typeof p.transition === 'function');
    this.state.onTransition = watching ? (e) => this.#notify('transition', (p) => p.transition?.(e.key, e.from, e.to, { stimulus: e.stimulus })) : undefined;
  }

  /** Answers a client's query (called by the client connection's handler). */
  reply(message: Extract<ToScheduler, { op: 'who-has' | 'scheduler-info' | 'story' | 'has-what' | 'task-stream' | 'get-profile' | 'performance-data' }>): unknown {
    switch (message.op) {
      case 'get-profile':
        return this.profile.on ? { intervalMs: this.profile.intervalMs, root: this.profile.root } : null;
      case 'performance-data':
        return performanceData(this.state, message.start);
      case 'has-what':
        return this.state.hasWhat();
      case 'task-stream':
        // in the order they finished; those that started at `start` or later
        return this.state.taskStream.filter((e) => e.start >= message.start);
      case 'who-has':
        return this.state.whoHas(message.keys);
      case 'scheduler-info':
        return { address: this.address, workers: this.state.workerInfo() };
      case 'story':
        return this.state.story(message.key);
    }
  }

  #send(out: Outbox): void {
    for (const [address, messages] of out.workers) {
      const comm = this.#workers.get(address);
      if (comm !== undefined) for (const m of messages) comm.send(m);
    }
    for (const [client, messages] of out.clients) {
      const comm = this.#clients.get(client);
      if (comm !== undefined) for (const m of messages) comm.send(m);
    }
    for (const [client, events] of out.events) this.#clients.get(client)?.send({ op: 'events', events });
    if (out.queue.length > 0) this.#queue?.publish(out.queue);
    const journal = this.#journal;
    if (journal !== undefined && !this.#replaying) {
      if (out.completed.length > 0) journal.append({ t: 'done', keys: out.completed });
      // no task left: nothing for a scheduler after this one to take up
      if (journal.dirty && this.state.tasks.size === 0) journal.reset();
    }
  }
}
