/**
 * `Client`: the user's handle on a distributed cluster (Dask's `distributed.Client`). Without an
 * address it starts a LocalCluster sized as Dask does and returns at once; every method waits
 * for the cluster (`await client.ready` waits explicitly). While a client is open it is the
 * default: `get` and `compute` with no scheduler option run on it.
 *
 * Futures point at results that stay on the workers; passing a future to `submit` makes it a
 * dependency whose data moves from worker to worker, never through the client. `gather` (or
 * awaiting a future) fetches values straight from the workers that hold them.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { type ProfileTree, subtracted } from '../diagnostics/flame.js';
import type { PerformanceData } from './dashboard.js';
import { type ConfigHandle, config, configuredValue } from '../core/config.js';
import { Errors, closest } from '../errors.js';
import { type Delayed, isDelayed, mergeGraphs } from '../graph/delayed.js';
import { compileGraph } from '../graph/compile.js';
import { orderCompiled } from '../graph/order.js';
import { tokenize } from '../graph/tokenize.js';
import { noteCallers } from '../loader/locate.js';
import { type Visitor, mapValue } from '../graph/walk.js';
import { fromWireError } from '../schedulers/batchExecutor.js';
import type { FnRef, WireError } from '../workers/protocol.js';
import { restoreValue, scanResult } from '../workers/wireValues.js';
import { toWireError } from '../workers/runBatch.js';
import { type Comm, type Transport, overNats, transportFor } from './comm.js';
import { type Cluster, isCluster, LocalCluster, type LocalClusterOptions } from './cluster.js';
import { encodeGraph, refOf } from './encode.js';
import { defaultSecretFile, readSecret } from './secret.js';
import { runtimeFile } from '../loader/register.js';
import { type SchedulerPlugin, type WorkerPlugin, toWirePlugin } from './plugins.js';
import type { DataReply, DataRequest, PluginReply, RunOutcome, TaskEvent, TaskSpec, TaskStreamEntry, ToClient, ToScheduler, WireValue, WorkerInfo } from './protocol.js';
import type { LogEntry } from './schedulerState.js';
import { requestData } from './worker.js';
import { sizeOf } from '../core/sizeOf.js';

export type FutureStatus = 'pending' | 'finished' | 'error' | 'cancelled' | 'lost';

interface KeyState {
  status: FutureStatus;
  holders: readonly string[];
  error?: { readonly root: string; readonly error: WireError; readonly killed?: readonly string[] };
  /** Futures alive for this key in this client. */
  refs: number;
  settled: Array<() => void>;
}

export interface ClientOptions extends LocalClusterOptions {
  /** Connect to a running scheduler (`tcp://HOST:8786`) instead of starting a LocalCluster. */
  readonly address?: string;
  /** The shared secret of that scheduler's cluster (a LocalCluster makes its own). */
  readonly secret?: string;
  /** Make this client the default for `get` and `compute` while it is open (default true). */
  readonly setAsDefault?: boolean;
}

export interface SubmitOptions {
  /**
   * The key of the result (default: `<function name>-<hash of the function and arguments>`). For
   * `map`: a prefix (`<key>-<hash>` per element) or one key per element.
   */
  readonly key?: string | readonly string[];
  /** Same function and arguments give the same key, one task (default true, as in Dask). */
  readonly pure?: boolean;
  /** Higher runs first among tasks ready at the same time, on the scheduler and on a worker (default 0, as Dask's). */
  readonly priority?: number;
  /** Times the task runs again when it raises, before its future fails (default 0). */
  readonly retries?: number;
  /**
   * Workers it may run on, by name (`schedulerInfo()`'s `name`) or address; it waits (no-worker)
   * while none of them is there.
   */
  readonly workers?: string | readonly string[];
}

const SUBMIT_OPTIONS = ['key', 'pure', 'priority', 'retries', 'workers'] as const;

/**
 * Checks options given to `client.options(...)`: an unknown name is refused with the closest
 * one, a value of the wrong type names the option and what it takes.
 */
function checkSubmitOptions(options: unknown): SubmitOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`client.options() takes an object of options (${SUBMIT_OPTIONS.join(', ')}); got ${describe(options)}.`);
  const o = options as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if ((SUBMIT_OPTIONS as readonly string[]).includes(name)) continue;
    const near = nearest(name, SUBMIT_OPTIONS);
    throw new TypeError(`client.options(): unknown option ${JSON.stringify(name)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}. Options are ${SUBMIT_OPTIONS.join(', ')}.`);
  }
  const bad = (name: string, takes: string): never => {
    throw new TypeError(`client.options(): ${name} must be ${takes}; got ${describe(o[name])}.`);
  };
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (o.key !== undefined && typeof o.key !== 'string' && !strings(o.key)) bad('key', 'a string (or, for map, a string per element)');
  if (o.pure !== undefined && typeof o.pure !== 'boolean') bad('pure', 'true or false');
  if (o.priority !== undefined && (typeof o.priority !== 'number' || !Number.isFinite(o.priority))) bad('priority', 'a finite number');
  if (o.retries !== undefined && (typeof o.retries !== 'number' || !Number.isInteger(o.retries) || o.retries < 0)) bad('retries', 'a whole number >= 0');
  if (o.workers !== undefined && typeof o.workers !== 'string' && !strings(o.workers)) bad('workers', 'a worker name or address, or a list of them');
  return o as SubmitOptions;
}

/**
 * `client.options({...})`: submissions with options, which stay apart from the task's arguments
 * (`submit(fn, ...args)` takes every argument as data).
 */
export class WithOptions {
  constructor(
    readonly client: Client,
    readonly options: SubmitOptions,
  ) {}

  /** `client.submit` with these options. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: unknown[]): Future<Awaited<R>> {
    return this.client.submitWith(this.options, fn, args) as Future<Awaited<R>>;
  }

  /** `client.map` with these options (`key`: a prefix, or one key per element). */
  map<R>(fn: (...args: never[]) => R, ...iterables: ReadonlyArray<Iterable<unknown>>): Array<Future<Awaited<R>>> {
    return this.client.mapWith(this.options, fn, iterables) as Array<Future<Awaited<R>>>;
  }
}

/** How long a client tries to join its scheduler again after losing it (Dask's connect timeout is 30 s). */
const RECONNECT_MS = 30_000;

/** The client's connections never keep the process alive by themselves (see #hold). */
const UNREF = { unref: true } as const;

let defaultClient: Client | undefined;
let clientCount = 0;

/** A persisted value was collected: its future goes (and with it the result on the cluster). */
const persisted = new FinalizationRegistry<Future>((future) => future.release());

const registry = new FinalizationRegistry<{ client: WeakRef<Client>; key: string }>(({ client, key }) => client.deref()?.releaseKey(key));

/** A result on the cluster: awaitable, with its key and status. */
export class Future<T = unknown> implements PromiseLike<T> {
  #released = false;

  constructor(
    readonly key: string,
    readonly client: Client,
  ) {
    client.retainKey(key);
    registry.register(this, { client: new WeakRef(client), key }, this);
  }

  /** pending, finished, error, cancelled or lost. */
  get status(): FutureStatus {
    return this.client.statusOf(this.key);
  }

  /** The value, fetched from the worker that holds it; rejects with the task's error. */
  result(): Promise<T> {
    return this.client.gather(this) as Promise<T>;
  }

  /** The task's error once it failed, undefined once it finished. */
  async exception(): Promise<unknown> {
    await this.client.settledKey(this.key);
    return this.client.errorOf(this.key);
  }

  cancel(): Promise<void> {
    return this.client.cancel([this]);
  }

  /** Lets the cluster forget this result once no other future holds it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    registry.unregister(this);
    this.client.releaseKey(this.key);
  }

  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return this.result().then(onfulfilled, onrejected);
  }

  toString(): string {
    return `Future(${JSON.stringify(this.key)}, ${this.status})`;
  }
}

export function isFuture(value: unknown): value is Future {
  return value instanceof Future;
}

/** The value `submit` sends: futures replaced by their keys (collected as dependencies). */
const FUTURES_TO_KEYS: Visitor<Set<string>> = {
  tasks: false,
  leaf(value, deps) {
    if (value instanceof Future) {
      deps.add(value.key);
      return value.key;
    }
    return value;
  },
};

export class Client {
  readonly id = `client-${process.pid}-${++clientCount}-${randomBytes(3).toString('hex')}`;
  /** Resolves once the cluster is up (every worker joined) and this client is connected. */
  readonly ready: Promise<void>;
  /** Resolves once this client is connected to the scheduler: work can be sent (it waits there for workers). */
  readonly #connected: Promise<void>;
  /** Why the cluster this client started could not start (reported instead of a bare "closed"). */
  #startFailure: Error | undefined;
  /** The cluster this client started (a LocalCluster) or was given (any cluster), if any. */
  cluster: Cluster | undefined;
  #comm: Comm<ToClient, ToScheduler> | undefined;
  #transport: Transport | undefined;
  readonly #keys = new Map<string, KeyState>();
  readonly #peers = new Map<string, Promise<Comm<DataReply, DataRequest>>>();
  readonly #replies = new Map<number, (value: unknown) => void>();
  readonly #followers = new Set<(events: readonly TaskEvent[]) => void>();
  /** Graph values of tasks this client submitted, by key (recreateErrorLocally runs them here). */
  readonly #submitted = new Map<string, TaskSpec>();
  #requestId = 0;
  #graphs = 0;
  /** Messages that need work first (locating functions) go out in the order they were asked for. */
  #sequence: Promise<unknown> = Promise.resolve();
  /** Operations waiting on the cluster: while there are any, a timer keeps the process alive. */
  #busy = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  #configHandle: ConfigHandle | undefined;

  /** The cluster was given (`new Client(cluster)`): closing this client leaves it running. */
  #ownsCluster = true;

  constructor(options?: string | ClientOptions | Cluster) {
    const given = isCluster(options) ? options : undefined;
    if (options !== undefined && typeof options !== 'string' && given === undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) throw new TypeError(`new Client() takes a scheduler address ('tcp://host:8786', 'host:8786', 'nats://host:4222'), options or a cluster; got ${describe(options)}.`);
    const asked: ClientOptions = typeof options === 'string' ? { address: options } : given !== undefined ? {} : ((options as ClientOptions | undefined) ?? {});
    checkClientOptions(asked);
    const opts: ClientOptions = asked.address === undefined ? asked : { ...asked, address: normalizeAddress(asked.address) };
    if (given !== undefined) {
      this.cluster = given;
      this.#ownsCluster = false;
    } else if (opts.address === undefined) {
      // the cluster exists at once (client.cluster.adapt(...) right after new Client(), as in Dask);
      // sized by the configuration in scope when not by the options
      this.cluster = new LocalCluster(clusterOptions(opts));
    }
    if (opts.setAsDefault !== false) {
      defaultClient = this;
      // the default client runs get() and compute() unless a scheduler is asked for (Dask's rule)
      this.#configHandle = config.set({ scheduler: 'distributed' });
    }
    this.#connected = this.#connect(opts);
    this.ready = this.#hold(this.#connected.then(() => this.cluster?.up));
    // an unawaited failure here is reported by the first method that waits
    this.ready.catch((error: Error) => (this.#startFailure ??= error));
  }

  /** The client `get` and `compute` use when the scheduler is 'distributed'. */
  static current(): Client | undefined {
    return defaultClient;
  }

  async #connect(opts: ClientOptions): Promise<void> {
    let address = opts.address;
    // a scheduler started by hand on this machine left its secret where only this user reads it
    // (over NATS, NATS's own credentials are the gate: no secret unless one is given)
    let secret = opts.secret ?? (address !== undefined && /^(tcp|unix):/.test(address) ? readSecret(defaultSecretFile(address), address) : '');
    if (this.cluster !== undefined) {
      await this.cluster.listening;
      address = this.cluster.schedulerAddress;
      secret = this.cluster.secret;
    }
    if (address === undefined) throw new Error('Client: neither a scheduler address nor a cluster (a bug in Skein)');
    this.#transport = await transportFor(address, secret);
    this.#overNats = overNats(address);
    const comm = await this.#transport.connect<ToClient, ToScheduler>(address, { unref: true });
    if (this.#closed) {
      comm.close();
      return;
    }
    this.#attach(comm);
    // joined a scheduler it did not start: if that goes (restarted), this client joins it again
    if (this.cluster === undefined) this.#address = address;
    if (this.#address !== undefined && this.#overNats) await this.#watchAnnouncements(this.#address);
  }

  #attach(comm: Comm<ToClient, ToScheduler>): void {
    this.#comm = comm;
    // a scheduler that never said a word (a connection it refused: the wrong secret) is not joined again
    let heard = false;
    comm.onMessage((m) => {
      heard = true;
      this.#handle(m);
    });
    comm.onClose(() => {
      if (this.#comm !== comm) return;
      const again = heard && !this.#closed && this.#address !== undefined;
      // a scheduler that keeps a journal is taken up by the next one: futures wait for it
      if (!(again && this.#journal)) this.#lost();
      else this.#unanswered();
      if (again) this.#reconnecting = this.#reconnect(this.#address!);
    });
    comm.send({ op: 'register-client', client: this.id });
  }

  /** The scheduler keeps a journal (over NATS with JetStream): one started after it takes up its work. */
  #journal = false;
  /** The id of the scheduler this client joined. */
  #instance: string | undefined;
  #unannounce: (() => void) | undefined;

  /**
   * Over NATS: a scheduler announcing itself that is not the one this client knows was started
   * again; the client joins it now rather than after its connection's silence.
   */
  async #watchAnnouncements(address: string): Promise<void> {
    const { processConnection, onSchedulerAnnounced } = await import('./natsComm.js');
    const nc = await processConnection();
    if (nc === undefined || this.#closed) return;
    this.#unannounce = onSchedulerAnnounced(nc, address, (instance) => {
      if (this.#instance !== undefined && instance !== this.#instance) this.#comm?.close();
    });
  }

  /** The welcome of a scheduler: joined again, the futures it does not know are lost (the others come as they would have). */
  #welcome(message: Extract<ToClient, { op: 'welcome' }>): void {
    const again = this.#instance !== undefined;
    this.#instance = message.instance;
    this.#journal = message.journal;
    this.#remoteDashboard = message.dashboard;
    if (!again) return;
    const known = new Set(message.known);
    for (const [key, ks] of this.#keys) if ((ks.status === 'pending' || ks.status === 'finished') && !known.has(key)) this.#settle(key, { status: 'lost' });
  }

  /** The scheduler this client joined (not one of its own cluster's): joined again if it goes. */
  #address: string | undefined;
  #reconnecting: Promise<void> | undefined;

  /**
   * The scheduler went (its process restarted, or it was cut off): futures not finished are lost,
   * and results it knew of are gone with it; this client tries to join it again for
   * RECONNECT_MS, after which it is closed as before. Work sent meanwhile waits for the new one.
   */
  async #reconnect(address: string): Promise<void> {
    const until = Date.now() + RECONNECT_MS;
    // without a journal, results it knew of are gone with it (with one, its welcome says which are)
    if (!this.#journal) for (const [key, ks] of this.#keys) if (ks.status === 'finished') this.#settle(key, { status: 'lost' });
    this.#shipped.clear(); // a new scheduler knows no plugins
    while (!this.#closed && Date.now() < until) {
      try {
        const comm = await this.#transport!.connect<ToClient, ToScheduler>(address, UNREF);
        if (this.#closed) return comm.close();
        this.#attach(comm);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250).unref());
      }
    }
    // no scheduler came back: what waited for one is lost
    this.#lost();
  }

  /**
   * Keeps the process alive while `work` is pending. The cluster's sockets and processes never
   * hold it by themselves, so a script that forgets `close()` still ends; one that awaits a
   * result does not end before it arrives.
   */
  async #hold<T>(work: Promise<T>): Promise<T> {
    if (this.#busy++ === 0) this.#keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      return await work;
    } finally {
      if (--this.#busy === 0) clearInterval(this.#keepAlive);
    }
  }

  /** Runs `step` after every step queued before it (submits, cancels, releases keep their order). */
  #inOrder<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#sequence.then(step);
    this.#sequence = next.catch(() => undefined);
    return this.#hold(next);
  }

  /**
   * The dashboard's URL: of the cluster this client started or was given, once its scheduler
   * listens (`await client.ready`), or the one a remote scheduler serves, once joined; undefined
   * when there is none.
   */
  get dashboardLink(): string | undefined {
    return this.cluster?.dashboard?.link ?? this.#remoteDashboard;
  }

  /** The dashboard a scheduler this client joined says it serves. */
  #remoteDashboard: string | undefined;

  /** The scheduler's address. */
  get schedulerAddress(): string {
    return this.cluster?.schedulerAddress ?? '';
  }

  // ---- messages ------------------------------------------------------------------------------

  #handle(message: ToClient): void {
    switch (message.op) {
      case 'key-in-memory':
        // (computed before a cancel reached the scheduler: the future stays cancelled)
        if (this.#keys.get(message.key)?.status === 'cancelled') return;
        return this.#settle(message.key, { status: 'finished', holders: message.holders });
      case 'task-erred': {
        // scattered data whose last holder died is lost (it has no recipe); what needs it failed
        const lost = message.root === message.key && message.error.props?.code === 'SCATTERED_DATA_LOST';
        return this.#settle(message.key, { status: lost ? 'lost' : 'error', error: { root: message.root, error: message.error, killed: message.killed } });
      }
      case 'lost-data': {
        // its last holder went: the scheduler computes it again, and says where with key-in-memory
        const ks = this.#keys.get(message.key);
        if (ks !== undefined && ks.status === 'finished') Object.assign(ks, { status: 'pending', holders: [] });
        return;
      }
      case 'cancelled': {
        // the answer to this client's own cancel, already applied (the key may be submitted again since)
        const mine = this.#cancelling.get(message.key);
        if (mine !== undefined) {
          if (mine <= 1) this.#cancelling.delete(message.key);
          else this.#cancelling.set(message.key, mine - 1);
          return;
        }
        return this.#settle(message.key, { status: 'cancelled' });
      }
      case 'events':
        for (const follow of this.#followers) follow(message.events);
        return;
      case 'reply': {
        const resolve = this.#replies.get(message.id);
        this.#replies.delete(message.id);
        resolve?.(message.error === undefined ? message.value : new RefusedRequest(message.error));
        return;
      }
      case 'request-refused':
        process.emitWarning(`the scheduler refused ${message.request}: ${message.message}`, { code: 'SKEIN_REQUEST_REFUSED' });
        return;
      case 'welcome':
        return this.#welcome(message);
      case 'closing':
        return this.#lost();
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  #lost(): void {
    for (const [key, ks] of this.#keys) if (ks.status === 'pending') this.#settle(key, { status: 'lost' });
    this.#unanswered();
  }

  /** Requests the scheduler that went will not answer. */
  #unanswered(): void {
    for (const resolve of this.#replies.values()) resolve(undefined);
    this.#replies.clear();
  }

  #state(key: string): KeyState {
    let ks = this.#keys.get(key);
    if (ks === undefined) this.#keys.set(key, (ks = { status: 'pending', holders: [], refs: 0, settled: [] }));
    return ks;
  }

  #settle(key: string, change: Partial<KeyState>): void {
    const ks = this.#state(key);
    Object.assign(ks, change);
    const waiting = ks.settled.splice(0);
    for (const w of waiting) w();
  }

  retainKey(key: string): void {
    this.#state(key).refs++;
  }

  /** Drops what this client knows of `key`; whoever still waits on it hears it was cancelled. */
  #forget(key: string): void {
    const ks = this.#keys.get(key);
    this.#keys.delete(key);
    this.#submitted.delete(key);
    if (ks !== undefined && ks.status === 'pending') {
      ks.status = 'cancelled';
      for (const w of ks.settled.splice(0)) w();
    }
  }

  releaseKey(key: string): void {
    const ks = this.#keys.get(key);
    if (ks === undefined) return;
    if (--ks.refs > 0) return;
    this.#forget(key);
    if (!this.#closed) void this.#inOrder(async () => this.#comm?.send({ op: 'release-keys', client: this.id, keys: [key] }));
  }

  /** Lets go of keys a run held without futures (keys a future of this client holds stay). */
  releaseKeys(keys: readonly string[]): void {
    const free = keys.filter((k) => {
      const ks = this.#keys.get(k);
      if (ks !== undefined && ks.refs > 0) return false;
      this.#forget(k);
      return true;
    });
    if (free.length > 0 && !this.#closed) void this.#inOrder(async () => this.#comm?.send({ op: 'release-keys', client: this.id, keys: free }));
  }

  /** Keys this client cancelled whose `cancelled` answers from the scheduler are still to come, with how many. */
  readonly #cancelling = new Map<string, number>();

  /** Stops keys a run held without futures. */
  async cancelKeys(keys: readonly string[]): Promise<void> {
    const free = keys.filter((k) => (this.#keys.get(k)?.refs ?? 0) === 0);
    if (free.length > 0 && !this.#closed && this.#comm !== undefined && !this.#comm.closed) this.#comm.send({ op: 'cancel-keys', client: this.id, keys: free });
  }

  statusOf(key: string): FutureStatus {
    return this.#keys.get(key)?.status ?? 'lost';
  }

  errorOf(key: string): unknown {
    const ks = this.#keys.get(key);
    if ((ks?.status !== 'error' && ks?.status !== 'lost') || ks.error === undefined) return undefined;
    return fromWireError(ks.error.error);
  }

  /** Resolves when `key` is finished, erred, cancelled or lost. */
  settledKey(key: string): Promise<void> {
    const ks = this.#state(key);
    if (ks.status !== 'pending') return Promise.resolve();
    return this.#hold(new Promise((resolve) => ks.settled.push(resolve)));
  }

  async #scheduler(): Promise<Comm<ToClient, ToScheduler>> {
    await this.#connected;
    await this.#reconnecting;
    if (this.#startFailure !== undefined) throw this.#startFailure;
    if (this.#closed || this.#comm === undefined || this.#comm.closed) throw Errors.clientClosed();
    return this.#comm;
  }

  async #ask(message: Extract<ToScheduler, { op: 'who-has' | 'scheduler-info' | 'story' | 'has-what' | 'task-stream' | 'run-on-scheduler' | 'restart' | 'register-plugin' | 'unregister-plugin' | 'get-profile' | 'performance-data' }>): Promise<unknown> {
    const comm = await this.#scheduler();
    const value = await this.#hold(
      new Promise((resolve) => {
        this.#replies.set(message.id, resolve);
        comm.send(message);
      }),
    );
    if (value instanceof RefusedRequest) throw new TypeError(`${message.op}: the scheduler refused the request: ${value.message}`);
    return value;
  }

  // ---- submitting ------------------------------------------------------------------------------

  /** Sends task specs; `wanted` become futures of this client. `follow` asks for every transition. */
  async submitSpecs(specs: readonly TaskSpec[], wanted: readonly string[], follow: { events: boolean; values: boolean } = { events: false, values: false }): Promise<void> {
    const comm = await this.#scheduler();
    if (this.#overNats) await this.#ship(specs);
    for (const spec of specs) this.#submitted.set(spec.key, spec);
    for (const key of wanted) {
      const ks = this.#state(key);
      if (ks.status !== 'finished') ks.status = 'pending';
    }
    comm.send({ op: 'update-graph', client: this.id, tasks: specs, wanted, events: follow.events, values: follow.values });
  }

  /** Modules this client shipped to its workers (over NATS), by URL: done once each. */
  readonly #shipped = new Map<string, Promise<void>>();
  #overNats = false;

  /**
   * Over NATS the workers may be on machines without this one's files: the modules the tasks'
   * functions come from go to them first (ship.ts), each once.
   */
  async #ship(specs: readonly TaskSpec[]): Promise<void> {
    const own = new URL('.', runtimeFile('index.js')).href;
    const urls = new Set<string>();
    for (const spec of specs) for (const [url] of spec.fns) if (url.startsWith('file:') && !url.startsWith(own) && !url.includes('/node_modules/')) urls.add(url);
    await Promise.all(
      [...urls].map((url) => {
        let shipping = this.#shipped.get(url);
        if (shipping === undefined) {
          shipping = (async () => {
            const { bundleForShipping, putShipped, ShippedModule } = await import('./ship.js');
            const b = await bundleForShipping(url);
            await putShipped(b.hash, b.code);
            await this.#registerPlugin(new ShippedModule(url, b.filename, b.hash, b.packages), undefined);
          })();
          this.#shipped.set(url, shipping);
          shipping.catch(() => this.#shipped.delete(url));
        }
        return shipping;
      }),
    );
  }

  /** The priority base of the next graph: later graphs run after earlier ones. */
  nextPriorityBase(): number {
    return ++this.#graphs * 2 ** 32;
  }

  /** Follows the transitions of the tasks this client submits with `events` (until the returned function is called). */
  follow(handler: (events: readonly TaskEvent[]) => void): () => void {
    this.#followers.add(handler);
    return () => this.#followers.delete(handler);
  }

  /**
   * Runs `fn(...args)` on the cluster (Dask's `submit`); futures among the arguments (in arrays and
   * plain objects too) are its dependencies. Every argument is data: options go through
   * `client.options({ key, pure, priority, retries, workers }).submit(fn, ...args)`.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: unknown[]): Future<Awaited<R>> {
    return this.submitWith({}, fn, args) as Future<Awaited<R>>;
  }

  /**
   * Submissions with options (as Ray's `.options()`): `client.options({ priority: 1 }).submit(fn, x)`
   * or `.map(fn, xs)`. An unknown option name is refused with the closest one.
   */
  options(options: SubmitOptions): WithOptions {
    return new WithOptions(this, checkSubmitOptions(options));
  }

  /** `submit` with options given apart from the arguments (what `options(...).submit` calls). */
  submitWith(options: SubmitOptions, fn: (...args: never[]) => unknown, args: readonly unknown[]): Future {
    if (typeof fn !== 'function') throw new TypeError(`submit() takes a function first; got ${describe(fn)}.`);
    if (Array.isArray(options.key)) throw new TypeError('submit(): key must be one string (a list of keys is for map).');
    const deps = new Set<string>();
    const graphArgs = mapValue(args, FUTURES_TO_KEYS, deps, () => [`submit(${fn.name || 'lambda'})`, 'args']) as unknown[];
    const key = (options.key as string | undefined) ?? autoKey(fn.name || 'lambda', fn, args, options.pure);
    const future = new Future(key, this);
    // a cancelled future as an argument: the task is cancelled too (Dask raises CancelledError)
    const cancelledDep = [...deps].find((d) => this.#keys.get(d)?.status === 'cancelled');
    if (cancelledDep !== undefined) {
      this.#settle(key, { status: 'cancelled', holders: [] });
      return future;
    }
    const ks = this.#state(key);
    // the same pure key submitted again after a cancel or a restart: computed anew
    if (ks.status === 'cancelled') ks.status = 'pending';
    const value = [fn, ...graphArgs];
    // the caller is on the stack only now: its imports are where `fn` is looked for first
    noteCallers();
    const placement = { retries: options.retries ?? 0, workers: typeof options.workers === 'string' ? [options.workers] : options.workers, priority: options.priority ?? 0 };
    void this.#inOrder(() => this.#submitOne(key, value, [...deps], placement)).catch((error: unknown) => {
      this.#settle(key, { status: 'error', error: { root: key, error: toWireError(error) } });
    });
    return future;
  }

  async #submitOne(key: string, value: unknown, deps: string[], placement: { retries: number; workers: readonly string[] | undefined; priority: number }): Promise<void> {
    // cancelled before it was sent, or an input was: it is not sent (Dask's cancel wins)
    if (this.#keys.get(key)?.status === 'cancelled') return;
    if (deps.some((d) => this.#keys.get(d)?.status === 'cancelled')) return this.#settle(key, { status: 'cancelled', holders: [] });
    const graph = compileGraph(new Map<string, unknown>([[key, value], ...deps.map((d) => [d, null] as [string, unknown])]));
    const [spec] = await encodeGraph(graph, new Int32Array(graph.size), this.nextPriorityBase(), [0]);
    const { retries, workers, priority } = placement;
    await this.submitSpecs([{ ...spec!, deps, ...(priority !== 0 ? { userPriority: priority } : {}), ...(retries > 0 ? { retries } : {}), ...(workers !== undefined ? { workers: [...workers] } : {}) }], [key]);
  }

  /**
   * `submit` for each element (Dask's `map`): with several iterables, `fn` gets one element of
   * each, up to the shortest. Options go through `client.options({...}).map(...)`.
   */
  map<R>(fn: (...args: never[]) => R, ...iterables: ReadonlyArray<Iterable<unknown>>): Array<Future<Awaited<R>>> {
    return this.mapWith({}, fn, iterables) as Array<Future<Awaited<R>>>;
  }

  /** `map` with options given apart from the iterables (what `options(...).map` calls). */
  mapWith(options: SubmitOptions, fn: (...args: never[]) => unknown, iterables: ReadonlyArray<Iterable<unknown>>): Future[] {
    if (typeof fn !== 'function') throw new TypeError(`map() takes a function first; got ${describe(fn)}.`);
    if (iterables.length === 0) throw new TypeError('map() needs at least one iterable of arguments after the function.');
    const lists = iterables.map((it, i) => {
      if (it === null || typeof it !== 'object' || typeof (it as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError(`map(): argument ${i + 2} is not iterable (got ${describe(it)}); pass arrays or other iterables of arguments. Options go through client.options({...}).map(...).`);
      return [...it];
    });
    const n = Math.min(...lists.map((l) => l.length));
    const keys = options.key;
    if (Array.isArray(keys) && keys.length !== n) throw new RangeError(`map(): ${keys.length} keys given for ${n} elements; give one key per element, or a prefix.`);
    return Array.from({ length: n }, (_, i) => {
      const args = lists.map((l) => l[i]);
      const key = Array.isArray(keys) ? keys[i] : typeof keys === 'string' ? autoKey(keys, fn, args, options.pure) : undefined;
      return this.submitWith({ ...options, key }, fn, args);
    });
  }

  /** Futures for delayed values (or a raw graph's keys): they run on the cluster now. */
  compute<T>(value: Delayed<T>): Future<T>;
  compute(values: readonly Delayed<unknown>[]): Future[];
  compute(value: Delayed<unknown> | readonly Delayed<unknown>[]): Future | Future[] {
    const list = isDelayed(value) ? [value] : [...(value as readonly Delayed<unknown>[])];
    const futures = list.map((d) => new Future(d.key, this));
    noteCallers();
    void this.#inOrder(() => this.#computeGraph(mergeGraphs(list), list.map((d) => d.key))).catch((error: unknown) => {
      for (const d of list) this.#settle(d.key, { status: 'error', error: { root: d.key, error: toWireError(error) } });
    });
    return isDelayed(value) ? futures[0]! : futures;
  }

  /**
   * Starts computing delayed values on the cluster and keeps their results there for as long as
   * the returned values are in use (Dask's `persist`): computing them again on this client, or
   * anything built on them, uses the results instead of running their graphs again.
   */
  persist<T>(value: Delayed<T>): Delayed<T> {
    const future = this.compute(value);
    // the result stays while the delayed value lives (or until the client closes)
    persisted.register(value, future);
    return value;
  }

  async #computeGraph(dsk: Map<string, unknown>, keys: string[]): Promise<void> {
    const graph = compileGraph(dsk);
    const specs = await encodeGraph(graph, orderCompiled(graph), this.nextPriorityBase());
    await this.submitSpecs(specs, keys);
  }

  /** Runs a raw graph on the cluster and resolves to the values of `keys` (as `get` with this client). */
  async get(graph: Record<string, unknown> | Map<string, unknown>, keys: string | readonly string[], options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const { runOnClient } = await import('./graphRun.js');
    return await runOnClient(this, graph, keys, { callbacks: [], signal: options.signal });
  }

  /**
   * Sends data to the workers (round robin, or to every worker with `broadcast`; `workers`: only
   * those, by name or address); futures for it. Scattered data has no task to compute it again:
   * lost with its last holder, its future fails saying so.
   */
  scatter<T>(data: readonly T[], options: { broadcast?: boolean; workers?: string | readonly string[] } = {}): Promise<Array<Future<T>>> {
    return this.#hold(this.#scatter(data, options));
  }

  async #scatter<T>(data: readonly T[], options: { broadcast?: boolean; workers?: string | readonly string[] }): Promise<Array<Future<T>>> {
    if (!Array.isArray(data)) throw new TypeError(`scatter() takes a list of values; got ${describe(data)}.`);
    const comm = await this.#scheduler();
    const only = typeof options.workers === 'string' ? [options.workers] : options.workers;
    const workers = Object.values((await this.schedulerInfo()).workers).filter((w) => only === undefined || only.includes(w.name) || only.includes(w.address));
    if (workers.length === 0) throw only === undefined ? Errors.noWorkers() : new Error(`scatter(): none of the workers ${only.map((w) => JSON.stringify(w)).join(', ')} is in the cluster.`);
    const keys = data.map((d) => `scatter-${tokenize([d])}`);
    const futures = keys.map((k) => new Future<T>(k, this));
    const targets = options.broadcast === true ? workers.map((w) => w.address) : undefined;
    const byWorker = new Map<string, number[]>();
    data.forEach((_, i) => {
      for (const address of targets ?? [workers[i % workers.length]!.address]) {
        let list = byWorker.get(address);
        if (list === undefined) byWorker.set(address, (list = []));
        list.push(i);
      }
    });
    for (const [address, indexes] of byWorker) {
      const items = indexes.map((i) => [keys[i]!, toWire(data[i])] as const);
      await requestData(this.#transport!, this.#peers, address, { op: 'put-data', id: 0, items }, UNREF);
      comm.send({ op: 'scatter', client: this.id, keys: indexes.map((i) => keys[i]!), nbytes: indexes.map((i) => sizeOf(data[i])), worker: address });
    }
    return futures;
  }

  /** Values of futures (in arrays and plain objects too), fetched from the workers that hold them. */
  async gather(futures: unknown): Promise<unknown> {
    const wanted = new Set<string>();
    mapValue(futures, FUTURES_TO_KEYS, wanted, () => ['gather()', 'argument']);
    const values = await this.gatherKeys([...wanted]);
    return mapValue(futures, { tasks: false, leaf: (v) => (v instanceof Future ? values.get(v.key) : v) }, null, () => ['gather()', 'argument']);
  }

  /** The values of `keys` once they settle; rejects with the first error (a TaskError naming the task that raised). */
  gatherKeys(keys: readonly string[], finishedKeys: () => readonly string[] = () => []): Promise<Map<string, unknown>> {
    return this.#hold(this.#gatherKeys(keys, finishedKeys));
  }

  async #gatherKeys(keys: readonly string[], finishedKeys: () => readonly string[]): Promise<Map<string, unknown>> {
    await this.#connected;
    const out = new Map<string, unknown>();
    const classes = new Map<string, Function>();
    const fetch = async (holder: string, list: readonly string[]): Promise<string[]> => {
      const reply = await requestData(this.#transport!, this.#peers, holder, { op: 'get-data', id: 0, keys: list }, UNREF).catch(() => undefined);
      if (reply === undefined || reply.op !== 'data') return [...list];
      for (const [key, wire] of reply.items) out.set(key, await fromWire(wire, classes));
      return [...reply.missing];
    };
    // a result whose holder retired or died while this ran is fetched where it is now, or waited
    // for while the scheduler computes it again (lost-data): a few rounds, then the loss is said
    let todo = [...keys];
    for (let round = 0; todo.length > 0; round++) {
      await Promise.all(todo.map((k) => this.settledKey(k)));
      const byHolder = new Map<string, string[]>();
      for (const key of todo) {
        const ks = this.#keys.get(key);
        if (ks === undefined || (ks.status === 'lost' && ks.error === undefined)) throw this.#startFailure ?? Errors.clientClosed();
        if (ks.status === 'cancelled') throw Errors.cancelled(new Error(`future ${JSON.stringify(key)} was cancelled`), finishedKeys());
        if (ks.status === 'lost') throw fromWireError(ks.error!.error);
        if (ks.status === 'error') throw Errors.taskFailed(ks.error!.root, fromWireError(ks.error!.error), finishedKeys());
        const holder = ks.holders[0]!;
        let list = byHolder.get(holder);
        if (list === undefined) byHolder.set(holder, (list = []));
        list.push(key);
      }
      const again: string[] = [];
      await Promise.all(
        [...byHolder].map(async ([holder, list]) => {
          const lost = await fetch(holder, list);
          if (lost.length === 0) return;
          // the holder is gone or let go of them (a worker retired, its results copied elsewhere): ask where they are now
          const where = (await this.#ask({ op: 'who-has', id: ++this.#requestId, keys: lost })) as Record<string, string[]>;
          for (const key of lost) {
            const now = (where[key] ?? []).filter((h) => h !== holder);
            const ks = this.#keys.get(key);
            if (ks !== undefined && ks.status === 'finished') ks.holders = now;
            if (now[0] !== undefined && (await fetch(now[0], [key])).length === 0) continue;
            if (ks !== undefined && (ks.status !== 'finished' || now.length > 0) && round < 10) again.push(key);
            else throw Errors.dataLost([key], holder);
          }
        }),
      );
      todo = again;
    }
    return out;
  }

  /**
   * Stops futures (Dask's `cancel`): they are `cancelled` when this resolves, their dependents of
   * this client are cancelled too, and what only they needed stops. Submitting the same pure key
   * again computes it anew.
   */
  cancel(futures: readonly Future[]): Promise<void> {
    for (const f of futures) if (!(f instanceof Future)) return Promise.reject(new TypeError(`cancel() takes futures; got ${describe(f)}.`));
    const keys = futures.map((f) => f.key);
    for (const key of keys) this.#settle(key, { status: 'cancelled', holders: [] });
    return this.#inOrder(async () => {
      const comm = await this.#scheduler();
      // the scheduler answers each with `cancelled`, which this client has applied already
      for (const key of keys) this.#cancelling.set(key, (this.#cancelling.get(key) ?? 0) + 1);
      comm.send({ op: 'cancel-keys', client: this.id, keys });
    });
  }

  /** Runs erred futures again (Dask's `retry`); a future that did not fail is left as it is. */
  retry(futures: readonly Future[]): Promise<void> {
    for (const f of futures) if (!(f instanceof Future)) return Promise.reject(new TypeError(`retry() takes futures; got ${describe(f)}.`));
    const erred = futures.filter((f) => this.#keys.get(f.key)?.status === 'error').map((f) => f.key);
    if (erred.length === 0) return Promise.resolve();
    for (const key of erred) this.#state(key).status = 'pending';
    return this.#inOrder(async () => {
      const comm = await this.#scheduler();
      comm.send({ op: 'retry-keys', client: this.id, keys: erred });
    });
  }

  /** The scheduler's address and its workers, keyed by address. */
  async schedulerInfo(): Promise<{ address: string; workers: Record<string, WorkerInfo> }> {
    return (await this.#ask({ op: 'scheduler-info', id: ++this.#requestId })) as { address: string; workers: Record<string, WorkerInfo> };
  }

  /** Every transition of a key (or a future's) on the scheduler, oldest first (Dask's `story`). */
  async story(key: string | Future): Promise<LogEntry[]> {
    if (typeof key !== 'string' && !(key instanceof Future)) throw new TypeError(`story() takes a key or a future; got ${describe(key)}.`);
    return (await this.#ask({ op: 'story', id: ++this.#requestId, key: typeof key === 'string' ? key : key.key })) as LogEntry[];
  }

  /**
   * Starts every worker again (Dask's `restart`): every future of every client is cancelled, the
   * workers' results are gone; resolves once as many workers as there were are back.
   */
  restart(): Promise<void> {
    // in order: what was submitted before reaches the scheduler first, and is cancelled too
    return this.#inOrder(async () => {
      const outcome = (await this.#ask({ op: 'restart', id: ++this.#requestId })) as { ok: boolean; message?: string };
      if (!outcome.ok) throw new Error(outcome.message);
    });
  }

  /** The keys each worker holds, by address (Dask's `has_what`). */
  async hasWhat(): Promise<Record<string, string[]>> {
    return (await this.#ask({ op: 'has-what', id: ++this.#requestId })) as Record<string, string[]>;
  }

  /**
   * The tasks that ran since `start` (ms since the epoch; default: all the scheduler keeps, the
   * latest 100,000), in the order they finished: key, worker, thread, start, end, status.
   */
  async getTaskStream(options: { start?: number | Date } = {}): Promise<TaskStreamEntry[]> {
    const start = options.start === undefined ? 0 : +options.start;
    return (await this.#ask({ op: 'task-stream', id: ++this.#requestId, start })) as TaskStreamEntry[];
  }

  /**
   * Calls an exported function `fn(...args)` in every worker's process (or those named in
   * `workers`), outside any task; resolves to the results by worker address. One that throws
   * rejects with its error, naming the worker.
   */
  run<R>(fn: (...args: never[]) => R, options: { args?: readonly unknown[]; workers?: readonly string[] } = {}): Promise<Record<string, Awaited<R>>> {
    return this.#hold(this.#run(fn, options));
  }

  async #run<R>(fn: (...args: never[]) => R, options: { args?: readonly unknown[]; workers?: readonly string[] }): Promise<Record<string, Awaited<R>>> {
    const ref = await refOf(fn, `run(${fn.name || 'function'})`);
    const info = await this.schedulerInfo();
    const targets = Object.values(info.workers).filter((w) => options.workers === undefined || options.workers.includes(w.name) || options.workers.includes(w.address));
    const out: Record<string, Awaited<R>> = {};
    await Promise.all(
      targets.map(async (w) => {
        const reply = await requestData(this.#transport!, this.#peers, w.address, { op: 'run', id: 0, fn: ref, args: options.args ?? [] }, UNREF);
        if (reply.op !== 'ran') throw new Error(`worker ${w.name} did not answer run`);
        if (!reply.ok) throw Object.assign(fromWireError(reply.error) as Error, { worker: w.name });
        out[w.address] = reply.value as Awaited<R>;
      }),
    );
    return out;
  }

  /** Calls an exported function `fn(...args)` in the scheduler's process (Dask's `run_on_scheduler`). */
  async runOnScheduler<R>(fn: (...args: never[]) => R, ...args: unknown[]): Promise<Awaited<R>> {
    const ref = await refOf(fn, `runOnScheduler(${fn.name || 'function'})`);
    const outcome = (await this.#ask({ op: 'run-on-scheduler', id: ++this.#requestId, fn: ref, args })) as RunOutcome;
    if (!outcome.ok) throw fromWireError(outcome.error);
    return outcome.value as Awaited<R>;
  }

  /**
   * Registers a plugin: an instance of an exported class extending `WorkerPlugin` (its `setup`
   * runs on every worker now, and on every worker that joins later, before it starts a task) or
   * `SchedulerPlugin` (its `start` runs on the scheduler now). A plugin of the same name
   * (`plugin.name`, `options.name`, or its class's name) is replaced. Resolves with the name once
   * set up; rejects, and keeps nothing, when `setup` or `start` throws, naming the plugin and the
   * workers. The plugin travels as its class and its fields: its constructor does not run again.
   */
  registerPlugin(plugin: WorkerPlugin | SchedulerPlugin, options: { name?: string } = {}): Promise<string> {
    noteCallers();
    return this.#hold(this.#registerPlugin(plugin, options.name));
  }

  async #registerPlugin(plugin: WorkerPlugin | SchedulerPlugin, name: string | undefined): Promise<string> {
    const wire = await toWirePlugin(plugin, name);
    const reply = (await this.#ask({ op: 'register-plugin', id: ++this.#requestId, plugin: wire })) as PluginReply;
    if (!reply.ok) throw new Error(reply.message);
    return wire.name;
  }

  /** Tears a worker plugin down on every worker (`teardown`), or closes a scheduler plugin, and forgets it. */
  async unregisterPlugin(name: string): Promise<void> {
    const reply = (await this.#ask({ op: 'unregister-plugin', id: ++this.#requestId, name })) as PluginReply;
    if (!reply.ok) throw new Error(reply.message);
  }

  /**
   * Sends a module (JavaScript or TypeScript, with the local modules it imports) to every worker,
   * and to every worker that joins later (Dask's `upload_file`): tasks whose functions it exports,
   * and `client.run` of them, then use the uploaded copy. Upload it again after editing it and the
   * next tasks run the new code, without restarting the workers. Resolves once every worker has it.
   */
  uploadFile(path: string): Promise<void> {
    return this.#hold(
      (async () => {
        const { uploadPlugin } = await import('./uploads.js');
        await this.#registerPlugin(await uploadPlugin(path), undefined);
      })(),
    );
  }

  /**
   * The task code's statistical profile, sampled on every worker thread by V8's sampling
   * profiler since the cluster started (or since `since`, a profile taken earlier: only what came
   * after it): a call tree with sample counts. With `filename`, also writes it as a flame graph
   * page (the panel's, standalone). The workers sample only when the cluster was started with
   * `profile: true` (`skein worker --profile`); otherwise this rejects saying so.
   */
  async profile(options: { filename?: string; since?: ProfileTree } = {}): Promise<ProfileTree> {
    const now = (await this.#ask({ op: 'get-profile', id: ++this.#requestId })) as ProfileTree | null;
    if (now === null) throw new Error('profile(): the workers are not sampling their threads; start the cluster with profile: true (new Client({ profile: true }), new LocalCluster({ profile: true }), or skein worker --profile).');
    const tree: ProfileTree = options.since === undefined ? now : { intervalMs: now.intervalMs, root: subtracted(now.root, options.since.root) };
    if (options.filename !== undefined) {
      const { reportPage } = await import('./report.js');
      await writeFile(options.filename, reportPage('Skein profile', [{ kind: 'profile', intervalMs: tree.intervalMs, root: tree.root }], 'profile'));
    }
    return tree;
  }

  /** What a performance report shows of the time since `start` (ms since the epoch). */
  async performanceData(start: number): Promise<PerformanceData> {
    return (await this.#ask({ op: 'performance-data', id: ++this.#requestId, start })) as PerformanceData;
  }

  /**
   * Which workers hold each key (Dask's `who_has`): of futures or keys (one, or a list); with
   * none, of every result on the cluster.
   */
  async whoHas(futures?: Future | string | Iterable<Future | string>): Promise<Record<string, string[]>> {
    const keys = futures === undefined ? undefined : keysOf(futures, 'whoHas');
    return (await this.#ask({ op: 'who-has', id: ++this.#requestId, ...(keys === undefined ? {} : { keys }) })) as Record<string, string[]>;
  }

  /**
   * Runs a failed future's task again here, in the calling thread, with its inputs fetched from
   * the cluster, so a debugger stops in it (Dask's `recreate_error_locally`). Rejects with the
   * task's error as it is thrown here.
   */
  async recreateErrorLocally(future: Future): Promise<never> {
    await this.settledKey(future.key);
    const ks = this.#keys.get(future.key);
    if (ks?.status !== 'error' || ks.error === undefined) throw new TypeError(`recreateErrorLocally: future ${JSON.stringify(future.key)} did not fail (it is ${ks?.status ?? 'released'}).`);
    const spec = this.#submitted.get(ks.error.root);
    if (spec === undefined) throw new TypeError(`recreateErrorLocally: the task that raised, ${JSON.stringify(ks.error.root)}, was not submitted by this client.`);
    const { recreateLocally } = await import('./recreate.js');
    return recreateLocally(this, spec);
  }

  /** Fetches values whatever their futures' state (for recreateErrorLocally's inputs). */
  fetchInputs(keys: readonly string[]): Promise<Map<string, unknown>> {
    return this.#hold(this.#fetchInputs(keys));
  }

  async #fetchInputs(keys: readonly string[]): Promise<Map<string, unknown>> {
    const holders = await this.whoHas(keys);
    const out = new Map<string, unknown>();
    const classes = new Map<string, Function>();
    for (const key of keys) {
      const holder = holders[key]?.[0];
      if (holder === undefined) throw Errors.dataLost([key], 'the cluster');
      const reply = await requestData(this.#transport!, this.#peers, holder, { op: 'get-data', id: 0, keys: [key] }, UNREF);
      if (reply.op !== 'data' || reply.items.length === 0) throw Errors.dataLost([key], holder);
      out.set(key, await fromWire(reply.items[0]![1], classes));
    }
    return out;
  }

  /** Closes the connection, and the LocalCluster this client started. Leaves no process, socket or timer. */
  close(): Promise<void> {
    return this.#hold(this.#close());
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (defaultClient === this) defaultClient = undefined;
    this.#configHandle?.dispose();
    await this.#connected.catch(() => undefined);
    for (const peer of this.#peers.values()) void peer.then((c) => c.close(), () => undefined);
    this.#unannounce?.();
    this.#comm?.close();
    this.#lost();
    if (this.#ownsCluster) await this.cluster?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A scheduler address as Dask takes it: `host:port` is `tcp://host:port` (`localhost` is
 * 127.0.0.1); addresses with a scheme are as they are.
 */
export function normalizeAddress(address: string): string {
  if (typeof address !== 'string') throw new TypeError(`a scheduler address is a string such as 'tcp://127.0.0.1:8786'; got ${describe(address)}.`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return address;
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (m === null) throw new TypeError(`${JSON.stringify(address)} is not a scheduler address: give 'tcp://host:port' (or 'host:port'), 'nats://host:4222' or 'inproc://'.`);
  const host = m[1] === 'localhost' ? '127.0.0.1' : m[1]!;
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${m[2]}`;
}

const CLUSTER_OPTIONS = ['nWorkers', 'threadsPerWorker', 'processes', 'memoryLimit', 'schedulerPort', 'validate', 'allowedFailures', 'workerTtlMs', 'dashboardAddress', 'dashboardToken', 'profile'] as const satisfies ReadonlyArray<keyof LocalClusterOptions>;
const CONNECT_OPTIONS = ['address', 'secret', 'setAsDefault'] as const satisfies ReadonlyArray<keyof ClientOptions>;

/** Refuses option names a client does not take (with the closest), and cluster options given with an address (Dask's "Unexpected keyword arguments"). */
function checkClientOptions(opts: ClientOptions): void {
  const names = Object.keys(opts);
  const known: readonly string[] = [...CLUSTER_OPTIONS, ...CONNECT_OPTIONS];
  for (const name of names) {
    if (known.includes(name)) continue;
    const near = nearest(name, known);
    throw new TypeError(`new Client(): unknown option ${JSON.stringify(name)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}. Options are ${known.join(', ')}.`);
  }
  const forCluster = names.filter((n) => (CLUSTER_OPTIONS as readonly string[]).includes(n) && opts[n as keyof ClientOptions] !== undefined);
  if (opts.address !== undefined && forCluster.length > 0) throw new TypeError(`new Client(): ${forCluster.join(', ')} size a cluster the client starts; a client of the scheduler at ${normalizeAddress(opts.address)} takes only ${CONNECT_OPTIONS.join(', ')}. Size the cluster where it is started (skein worker --nthreads, LocalCluster options).`);
}

/** The LocalCluster a client starts: its options, sized by the configuration in scope where they say nothing (numWorkers, threadsPerWorker). */
function clusterOptions(opts: ClientOptions): LocalClusterOptions {
  const { address: _address, secret: _secret, setAsDefault: _default, ...rest } = opts;
  return { ...rest, nWorkers: opts.nWorkers ?? configuredValue('numWorkers') ?? undefined, threadsPerWorker: opts.threadsPerWorker ?? configuredValue('threadsPerWorker') };
}

/** `<prefix>-<token>`: the key of a call by its function and arguments (futures by their keys); `pure: false` makes it unique. */
function autoKey(prefix: string, fn: Function, args: readonly unknown[], pure: boolean | undefined): string {
  const parts = pure === false ? [fn, ...args, randomBytes(8).toString('hex')] : [fn, ...args];
  return `${prefix}-${tokenize(parts, (v) => (v instanceof Future ? v.key : undefined))}`;
}

/** A request the scheduler refused: its reason (a reply that carries an error). */
class RefusedRequest {
  constructor(readonly message: string) {}
}

/** Keys of futures or keys given as one or as an iterable of them; a TypeError naming `call` for anything else. */
function keysOf(value: unknown, call: string): string[] {
  const one = (v: unknown): string => {
    if (v instanceof Future) return v.key;
    if (typeof v === 'string') return v;
    throw new TypeError(`${call}() takes futures or keys (strings); got ${describe(v)}.`);
  };
  if (typeof value === 'string' || value instanceof Future) return [one(value)];
  if (value !== null && typeof value === 'object' && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(value as Iterable<unknown>)].map(one);
  throw new TypeError(`${call}() takes futures or keys (strings); got ${describe(value)}.`);
}

/** The name `name` most likely misspells: of the closest ones, the one sharing the longest beginning with it (`retry` → `retries`). */
function nearest(name: string, names: readonly string[]): string | undefined {
  const prefix = (a: string): number => {
    let i = 0;
    while (i < a.length && i < name.length && a[i] === name[i]) i++;
    return i;
  };
  const near = closest(name, names, 5);
  return near.reduce<string | undefined>((best, c) => (best === undefined || prefix(c) > prefix(best) ? c : best), undefined);
}

/** A value named in an error message: its type, and its text when short. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') {
    const name = value.constructor?.name ?? 'object';
    return name === 'Object' ? 'a plain object' : Array.isArray(value) ? 'a list' : `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`;
  }
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/** A value made ready to send: where its Buffers and class instances are. */
export function toWire(value: unknown): WireValue {
  const special = scanResult(value, true);
  if (special?.instances !== undefined) throw new TypeError('scatter(): class instances cannot be scattered yet; scatter plain data, or submit a task that makes them.');
  return { value, buffers: special?.buffers };
}

/** A value that came from a worker, made whole (Buffers, class instances). */
export async function fromWire(wire: WireValue, classes: Map<string, Function>): Promise<unknown> {
  if (wire.buffers === undefined && wire.classes === undefined) return wire.value;
  for (const [, ref] of wire.classes ?? []) {
    const id = `${ref[0]}#${ref[1]}`;
    if (!classes.has(id)) classes.set(id, await importRef(ref));
  }
  return restoreValue(wire.value, wire.buffers, wire.classes, (ref) => classes.get(`${ref[0]}#${ref[1]}`)!);
}

/** What a module exports under a name (module URL + export name, as workers locate them); a delayed function's wrapped function. */
export async function importRef([url, name]: FnRef): Promise<Function> {
  const ns = (await import(url)) as Record<string, unknown>;
  const value = ns[name] as Function & { fn?: unknown };
  return typeof value.fn === 'function' ? (value.fn as Function) : value;
}
