/**
 * The NATS transport: the distributed scheduler's connections carried by a NATS server (or a
 * cluster of them), so that the scheduler, its workers and its clients may be on different
 * machines and need only reach NATS. Everything above the `Transport` interface is unchanged.
 *
 * Addresses: `nats://[TOKEN@|USER:PASS@]HOST:PORT[/PREFIX]` names the scheduler of a Skein cluster
 * (`PREFIX`, default `skein`, keeps several apart on one NATS); a worker's data address is
 * `nats://HOST:PORT/PREFIX/worker/NAME/PID`. Credentials stay in the address a process was given and
 * never go into the addresses it hands out or prints. A creds file: `SKEIN_NATS_CREDS`.
 *
 * A listener subscribes to its subject (`PREFIX.scheduler`, `PREFIX.worker.NAME.PID`); a connection
 * is a request to it carrying the connector's inbox and the cluster's secret (when it has one;
 * NATS's own authentication is the gate across machines), answered with the listener's inbox for
 * it. From then on each side publishes frames to the other's inbox: a batch of messages in V8's
 * serialization, cut into chunks of at most 1 MB (NATS's default largest message) and joined
 * again on arrival, in order (NATS keeps a publisher's order), each numbered: core NATS delivers
 * at most once, and a frame lost (a server that went, its clients moving to another of the
 * cluster) ends the connection as a loss, which the scheduler handles as it handles a worker gone.
 * A connection to the scheduler, where the server has JetStream, carries its frames through a
 * stream instead (durableStream, openDurable): stored until taken, published again until stored,
 * taken by number once and in order, so a server lost loses none. Each side says its
 * `nats.livenessMs` (configuration) as they connect; one that has sent nothing for a quarter of
 * the shorter of the two sends a ping, and one that hears nothing from the other for its own takes
 * it as gone, as a socket's close would say: a worker killed, or cut off from NATS.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { type NatsConnection, type Subscription, connect, credsAuthenticator, nanos } from '@nats-io/transport-node';
import { AckPolicy, type JetStreamClient, type JetStreamManager, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { resolveConfig } from '../core/config.js';
import { BatchingComm, type Comm, type HandleOptions, type Listener, type Transport, sameSecret } from './comm.js';

/** Frame kinds: the first byte of every message on a connection's inbox. */
const WHOLE = 0;
const CHUNK = 1; // more follow
const LAST = 2; // the last chunk of a batch
const CLOSE = 3;
/** Unnumbered: I am here (sent when idle). */
const PING = 4;
/** Unnumbered: this end has taken the other as gone. */
const ABORT = 5;
/**
 * Unnumbered, durable connections: frame N (in the header's number) has not come; publish the
 * frames from N again. A PING there says which frame its sender expects next (the other end may
 * forget the frames before it), and after the header how many frames it has sent (so that the
 * other end knows one is missing even when nothing came after it).
 */
const RESEND = 6;

/** A durable frame missing for this long (later ones waiting, or the other end's count ahead; JetStream redelivers in 2 s) is asked for again. */
const GAP_MS = 3000;
/** Bytes of frames a durable end keeps until the other end's pings say it has them, at most (the oldest go first). */
const MAX_UNCONFIRMED_BYTES = 64 * 1024 * 1024;

/** A frame's header: its kind (a byte) and its sequence number on the connection (4 bytes). */
const HEADER = 5;

/** SKEIN_NATS_DEBUG=1: what consumers report and the publishes retried, on stderr. */
const DEBUG = process.env.SKEIN_NATS_DEBUG === '1';

/** Largest chunk: 1 MB, or less if the server allows less. */
const CHUNK_BYTES = 1024 * 1024;

/** A connection through JetStream pings on core NATS this often, so its silence means the process, not a stream. */
const DURABLE_PING_MS = 1000;
/** Silence (no frame, no ping) after which the other end of a durable connection may be taken as dead for a task whose queue message came again. */
export const DURABLE_SILENCE_MS = 3000;

export interface NatsAddress {
  /** `nats://HOST:PORT` or `tls://HOST:PORT`, without credentials: the first of `servers`. */
  readonly server: string;
  /** Every server given (a cluster's: the client moves to another when one goes). */
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly prefix: string;
  /** The subject a listener at this address subscribes to. */
  readonly subject: string;
}

/** A subject token made of a name (worker names may hold dots or spaces). */
export function subjectToken(name: string): string {
  return name.replace(/[.*>\s]/g, '_');
}

/**
 * `nats://[TOKEN@|USER:PASS@]HOST:PORT[/PREFIX/…]`, or several servers of one NATS cluster
 * separated by commas (`nats://a:4222,nats://b:4222`): credentials from the first, the path from
 * whichever has one.
 */
export function parseNatsAddress(address: string): NatsAddress {
  const scheme = /^[a-z]+:\/\//.exec(address)?.[0] ?? 'nats://';
  const urls = address.split(',').map((part) => {
    const text = /^[a-z]+:\/\//.test(part.trim()) ? part.trim() : `${scheme}${part.trim()}`;
    try {
      return new URL(text);
    } catch {
      throw new TypeError(`Not a NATS address: ${JSON.stringify(shownAddress(address))} (expected nats://HOST:PORT, or nats://TOKEN@HOST:PORT)`);
    }
  });
  for (const url of urls) if (url.protocol !== 'nats:' && url.protocol !== 'tls:') throw new TypeError(`Not a NATS address: ${JSON.stringify(shownAddress(address))} (expected nats://HOST:PORT)`);
  const first = urls[0]!;
  const parts = (urls.find((u) => u.pathname.length > 1) ?? first).pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const prefix = subjectToken(parts[0] ?? 'skein');
  const role = parts.slice(1).map(subjectToken);
  const user = decodeURIComponent(first.username);
  const pass = decodeURIComponent(first.password);
  const servers = urls.map((url) => `${url.protocol}//${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || '4222'}`);
  return {
    server: servers[0]!,
    servers,
    ...(user !== '' && pass !== '' ? { user, pass } : user !== '' ? { token: user } : {}),
    prefix,
    subject: [prefix, ...(role.length > 0 ? role : ['scheduler'])].join('.'),
  };
}

/**
 * The data address of this process's worker `name` in the cluster whose scheduler is at
 * `scheduler`: by name and pid (a worker started again under the same name is another address).
 */
export function workerAddress(scheduler: string, name: string): string {
  const a = parseNatsAddress(scheduler);
  return `${a.server}/${a.prefix}/worker/${encodeURIComponent(subjectToken(name))}/${process.pid}`;
}

/** The subject on which a scheduler at `address` says it started (its instance id). */
function announceSubject(address: string): string {
  return `${parseNatsAddress(address).prefix}.announce`;
}

/** A scheduler says it started at `address`: workers and clients of one before it join it at once, not after their liveness. */
export function announceScheduler(nc: NatsConnection, address: string, instance: string): void {
  nc.publish(announceSubject(address), instance);
}

/** `heard(instance)` for every scheduler that says it started at `address`; returns the way to stop listening. */
export function onSchedulerAnnounced(nc: NatsConnection, address: string, heard: (instance: string) => void): () => void {
  const sub = nc.subscribe(announceSubject(address), { callback: (_error, m) => heard(m.string()) });
  return () => sub.unsubscribe();
}

/** An address as it may be shown: without the credentials a URL may carry. */
export function shownAddress(address: string): string {
  return address.replace(/([a-z]+:\/\/)[^@/,]*@/g, '$1');
}

/** The address of `subject` on `a`'s server, as handed out: no credentials. */
function addressOf(a: NatsAddress, subject: string): string {
  const rest = subject.split('.').slice(1);
  const path = rest.length === 1 && rest[0] === 'scheduler' ? (a.prefix === 'skein' ? '' : `/${a.prefix}`) : `/${[a.prefix, ...rest].join('/')}`;
  return `${a.servers.join(',')}${path}`;
}

/**
 * The NATS connection of this process's Skein transport (its worker's, or its client's), for what
 * goes beside the scheduler's connections: the object store that code is shipped through.
 */
export async function processConnection(): Promise<NatsConnection | undefined> {
  const s = [...connections.values()].at(-1);
  return s === undefined ? undefined : await s.nc;
}

/** One NATS connection per server and credentials in a process, shared by its listeners and comms, closed with the last of them. */
interface Shared {
  readonly nc: Promise<NatsConnection>;
  users: number;
  /** Handles that may not keep the process alive (a client's) vs. those that may. */
  held: number;
}
const connections = new Map<string, Shared>();

async function openConnection(a: NatsAddress): Promise<NatsConnection> {
  const creds = process.env.SKEIN_NATS_CREDS;
  try {
    return await connect({
      servers: a.servers.map((server) => server.replace(/^tls:/, 'nats:')),
      ...(a.user !== undefined ? { user: a.user, pass: a.pass } : {}),
      ...(a.token !== undefined ? { token: a.token } : {}),
      ...(creds ? { authenticator: credsAuthenticator(readFileSync(creds)) } : {}),
      ...(a.server.startsWith('tls:') ? { tls: {} } : {}),
      name: `skein ${process.pid}`,
      // the servers in the order given: the first is where this process belongs, the others its fallbacks
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // a request (every JetStream publish) would capture a stack trace up front for an error it
      // rarely has: a third of the scheduler's time through a stream, measured
      noAsyncTraces: true,
    });
  } catch (error) {
    // the credentials are the user's to see in their own address, never in a message
    throw new Error(`Cannot reach NATS at ${a.server}: ${error instanceof Error ? error.message : String(error)}. Is nats-server running there, and are the credentials right?`, { cause: error });
  }
}

function acquire(a: NatsAddress, unref: boolean): Shared {
  const key = `${a.servers.join(',')} ${a.user ?? ''} ${a.pass ?? ''} ${a.token ?? ''}`;
  let s = connections.get(key);
  if (s === undefined) {
    s = { nc: openConnection(a), users: 0, held: 0 };
    connections.set(key, s);
    s.nc.catch(() => connections.delete(key));
    const shared = s;
    void s.nc.then(
      (nc) => {
        void nc.closed().then(() => connections.get(key) === shared && connections.delete(key));
        refresh(shared);
      },
      () => undefined,
    );
  }
  s.users++;
  if (!unref) s.held++;
  void s.nc.then(() => refresh(s!), () => undefined);
  return s;
}

function release(s: Shared, unref: boolean): void {
  s.users--;
  if (!unref) s.held--;
  if (s.users === 0) {
    for (const [k, v] of connections) if (v === s) connections.delete(k);
    void s.nc.then((nc) => nc.close(), () => undefined);
  } else void s.nc.then(() => refresh(s), () => undefined);
}

/**
 * Lets a connection used only by handles that must not keep the process alive (a client in a
 * script that forgets `close()`) not keep it alive: its socket and its ping timer are unref'd.
 */
function refresh(s: Shared): void {
  void s.nc.then((nc) => {
    const internals = nc as unknown as { protocol?: { transport?: { socket?: { ref(): void; unref(): void } }; heartbeats?: { timer?: { ref?(): void; unref?(): void }; _schedule?: () => void; skeinUnref?: boolean } } };
    const socket = internals.protocol?.transport?.socket;
    const hb = internals.protocol?.heartbeats;
    const unref = s.held === 0;
    if (unref) socket?.unref();
    else socket?.ref();
    if (hb !== undefined && hb._schedule !== undefined && hb.skeinUnref === undefined) {
      const schedule = hb._schedule.bind(hb);
      hb._schedule = () => {
        schedule();
        if (hb.skeinUnref === true) hb.timer?.unref?.();
      };
    }
    if (hb !== undefined) {
      hb.skeinUnref = unref;
      if (unref) hb.timer?.unref?.();
      else hb.timer?.ref?.();
    }
  });
}

/** A prefix's JetStream: the stream that carries its scheduler's connections (one per process and NATS connection). */
export interface DurableStream {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
}
const streams = new WeakMap<NatsConnection, Map<string, Promise<DurableStream | undefined>>>();

/**
 * The stream `SKEIN_<prefix>` (subjects `<prefix>.d.>`, work-queue retention: a frame is kept until
 * its consumer acknowledges it, in `nats.replicas` copies), made if missing; undefined when the
 * server has no JetStream (connections then go over core NATS alone).
 */
export function durableStream(nc: NatsConnection, prefix: string): Promise<DurableStream | undefined> {
  let byPrefix = streams.get(nc);
  if (byPrefix === undefined) streams.set(nc, (byPrefix = new Map()));
  let made = byPrefix.get(prefix);
  if (made === undefined) {
    made = (async () => {
      let jsm: JetStreamManager;
      try {
        jsm = await jetstreamManager(nc, { timeout: 5000 });
      } catch {
        return undefined;
      }
      const stream = `SKEIN_${prefix}`;
      await ensureStream(nc, jsm, {
        name: stream,
        subjects: [`${prefix}.d.>`],
        retention: RetentionPolicy.Workqueue,
        // frames no one consumed (both ends gone) do not stay
        max_age: nanos(3_600_000),
        duplicate_window: nanos(120_000),
      });
      return { js: jetstream(nc), jsm, stream };
    })();
    made.catch(() => byPrefix.delete(prefix));
    byPrefix.set(prefix, made);
  }
  return made;
}

/**
 * The stream `config.name`, made if missing (on disk, in `nats.replicas` copies; one made
 * meanwhile by another process will do); an error when it can be neither found nor made.
 */
export async function ensureStream(nc: NatsConnection, jsm: JetStreamManager, config: Omit<Parameters<JetStreamManager['streams']['add']>[0], 'storage' | 'num_replicas'> & { readonly name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch {
    try {
      await jsm.streams.add({ ...config, storage: StorageType.File, num_replicas: resolveConfig()['nats.replicas'] ?? clusterReplicas(nc) });
    } catch (error) {
      if (!/already in use/i.test(error instanceof Error ? error.message : String(error))) throw error;
    }
  }
}

/**
 * `step` (a JetStream publish, a purge), tried again every 200 ms while it fails (a stream electing
 * a leader takes seconds), for `forMs` at most or until `stop()`; rejects with the last failure.
 */
export async function retrying<T>(step: () => Promise<T>, forMs: number, stop: () => boolean = () => false): Promise<T> {
  const until = Date.now() + forMs;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (stop() || Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200).unref());
    }
  }
}

/**
 * Replicas for a stream on this NATS: 3 on a cluster of three servers or more (it survives the
 * loss of any one; with one copy, the server holding it would be every connection's weak point),
 * else 1.
 */
export function clusterReplicas(nc: NatsConnection): number {
  const info = nc.info as { cluster?: string; connect_urls?: string[] } | undefined;
  return info?.cluster !== undefined && (info.connect_urls?.length ?? 0) >= 2 ? 3 : 1;
}

/** One end's durable part: the subject it publishes frames to (the other's), and its own consumer. */
interface Durable {
  readonly d: DurableStream;
  readonly peer: string;
  /** Message ids `<id>.<seq>`: a frame published again (no acknowledgement came) is stored once. */
  readonly id: string;
  stop(): void;
}

/**
 * A consumer of `subject` in `d`'s stream, each frame handed to `take` and acknowledged; it lives
 * on through a server's loss (another server of the cluster takes the stream over) and is deleted
 * when this end closes (or by the server after a while without this end).
 */
async function consumeFrames(d: DurableStream, subject: string, name: string, livenessMs: number, take: (data: Uint8Array) => void): Promise<() => void> {
  await d.jsm.consumers.add(d.stream, {
    durable_name: name,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    // a frame delivered through a server that then went never arrives, and the ones after it wait
    // for it: it comes again after this long (a copy of one that did arrive is dropped by number)
    ack_wait: nanos(2_000),
    inactive_threshold: nanos(Math.max(60_000, 6 * livenessMs)),
    max_ack_pending: 20_000,
  });
  const consumer = await d.js.consumers.get(d.stream, name);
  const messages = await consumer.consume({
    max_messages: 1000,
    // pull requests that end soon: one held by a server that went is noticed (two missed heartbeats) in seconds, not in a minute
    expires: Math.max(2000, Math.min(5000, Math.floor(livenessMs / 4))),
    idle_heartbeat: 1000,
    callback: (m) => {
      take(m.data);
      m.ack();
    },
  });
  if (DEBUG) {
    void (async () => {
      for await (const n of messages.status()) if (n.type !== 'heartbeat' && n.type !== 'next') process.stderr.write(`skein nats ${process.pid} ${name}: ${JSON.stringify(n)} at ${Date.now()}\n`);
    })();
  }
  return () => {
    void messages.close().catch(() => undefined);
    void d.jsm.consumers.delete(d.stream, name).catch(() => undefined);
  };
}

/**
 * An end's durable part of connection `id`: its consumer of `<prefix>.d.<id>.<side>` (frames to it
 * handed to `take`), frames to the other end published to the other side's subject; undefined
 * where the server has no JetStream or the consumer cannot be made.
 */
async function openDurable(nc: NatsConnection, prefix: string, id: string, side: 'c' | 'l', livenessMs: number, take: (data: Uint8Array) => void): Promise<Durable | undefined> {
  const d = await durableStream(nc, prefix).catch(() => undefined);
  if (d === undefined) return undefined;
  const stop = await consumeFrames(d, `${prefix}.d.${id}.${side}`, `${id}-${side}`, livenessMs, take).catch(() => undefined);
  return stop === undefined ? undefined : { d, peer: `${prefix}.d.${id}.${side === 'c' ? 'l' : 'c'}`, id: `${id}.${side}`, stop };
}

class NatsComm<In, Out> extends BatchingComm<In, Out> {
  #chunks: Uint8Array[] = [];
  #heard = Date.now();
  #said = Date.now();
  #timer: NodeJS.Timeout;
  #maxChunk: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
    private readonly peer: string,
    private readonly done: () => void,
    /** This end's `nats.livenessMs`, and the other end's (it pings often enough for the stricter). */
    private readonly liveness: number,
    theirs: number,
    /** Frames through JetStream (a connection to the scheduler, where the server has it): none lost when a NATS server goes. */
    private readonly durable?: Durable,
  ) {
    super();
    this.#maxChunk = Math.min(CHUNK_BYTES, (nc.info?.max_payload ?? CHUNK_BYTES) - 1024);
    // through JetStream, pings go on core NATS every second whatever else is sent: frames may wait
    // in a stream electing a leader, and the other end judges silence by what reaches it (a worker
    // whose task's queue message came again is taken as dead after DURABLE_SILENCE_MS of it)
    const pingEvery = durable === undefined ? Math.min(liveness, theirs) / 4 : Math.min(liveness / 4, theirs / 4, DURABLE_PING_MS);
    this.#timer = setInterval(() => {
      const now = Date.now();
      if (now - this.#heard > liveness) return this.#lost(new Error(`no word from the other end for ${liveness} ms (nats.livenessMs): taken as gone`));
      if (now - this.#said >= pingEvery) this.#core(this.#control(PING, this.#expected, this.durable === undefined ? undefined : this.#sent));
      if (this.durable !== undefined) this.#askForGap(now);
    }, Math.max(25, Math.floor(pingEvery / 2)));
    this.#timer.unref();
    void nc.closed().then(() => this.#lost(new Error('the NATS connection closed')));
  }

  heardAt(): number {
    return this.#heard;
  }

  /** Sequence numbers: of the next frame this end sends, and of the next it should receive. */
  #sent = 0;
  #expected = 0;
  /** Durable frames that came ahead of one still on its way (a publish retried), by number. */
  #ahead = new Map<number, Uint8Array>();
  /** Durable: since when frame `#expected` has been missing (0: none missing). */
  #gapSince = 0;
  /** Durable: how many frames the other end said it had sent, in its last ping. */
  #peerSent = 0;
  /** Durable: frames sent that the other end has not said it has, by number, oldest first. */
  #unconfirmed = new Map<number, Buffer>();
  #unconfirmedBytes = 0;
  /** Durable: frames published again on request, to give each publish a message id of its own. */
  #resent = 0;
  /** Failure injection for the transport's tests (SKEIN_NATS_LOSE_FRAME=N, read when the connection is made): the first publish of frame N is taken as stored and is not. */
  readonly #loseFrame = process.env.SKEIN_NATS_LOSE_FRAME;

  /**
   * A frame that never came (its publish was taken as stored and was not, as seen once with a NATS
   * server cut off from its cluster) would hold every later one forever while pings say the other
   * end is alive: once frames after it wait, or the other end says it sent it, ask for it again
   * after GAP_MS, and again every GAP_MS while it is missing.
   */
  #askForGap(now: number): void {
    if (this.#ahead.size === 0 && this.#peerSent <= this.#expected) {
      this.#gapSince = 0;
      return;
    }
    if (this.#gapSince === 0) this.#gapSince = now;
    else if (now - this.#gapSince >= GAP_MS) {
      if (DEBUG) process.stderr.write(`skein nats ${process.pid} frame ${this.#expected} missing for ${now - this.#gapSince} ms (${this.#ahead.size} after it wait, ${this.#peerSent} sent): asked again\n`);
      this.#gapSince = now;
      this.#core(this.#control(RESEND, this.#expected));
    }
  }

  /** The other end has every frame before `next`: they need not be kept. */
  #confirmed(next: number): void {
    for (const [seq, frame] of this.#unconfirmed) {
      if (seq >= next) break;
      this.#forget(seq, frame);
    }
  }

  #forget(seq: number, frame: Buffer): void {
    this.#unconfirmed.delete(seq);
    this.#unconfirmedBytes -= frame.length;
  }

  /** The other end misses frame `from`: publish it and those after it again. */
  #resend(from: number): void {
    if (!this.#unconfirmed.has(from)) return this.#lost(new Error(`the other end misses frame ${from}, which is no longer kept: taken as gone`));
    for (const [seq, frame] of this.#unconfirmed) if (seq >= from) this.#publish(frame, seq, `${seq}.r${++this.#resent}`);
  }

  /** A numbered frame: its kind, its sequence number (4 bytes), then `length` bytes of body to fill in. */
  #frame(kind: number, length: number): Buffer {
    const frame = Buffer.allocUnsafe(HEADER + length);
    frame[0] = kind;
    frame.writeUInt32LE(this.#sent++ >>> 0, 1);
    return frame;
  }

  /** An unnumbered frame (PING, ABORT, RESEND): outside the order, never through JetStream; `seq`, `extra`: what it says of the order. */
  #control(kind: number, seq = 0, extra?: number): Buffer {
    const frame = Buffer.alloc(extra === undefined ? HEADER : HEADER + 4);
    frame[0] = kind;
    frame.writeUInt32LE(seq >>> 0, 1);
    if (extra !== undefined) frame.writeUInt32LE(extra >>> 0, HEADER);
    return frame;
  }

  /** A message on this comm's inbox, or from its consumer. */
  received(data: Uint8Array): void {
    this.#heard = Date.now();
    const kind = data[0];
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const seq = view.readUInt32LE(1);
    if (kind === PING) {
      if (this.durable !== undefined) {
        this.#confirmed(seq);
        if (view.length >= HEADER + 4) this.#peerSent = view.readUInt32LE(HEADER);
      }
      return;
    }
    if (kind === ABORT) return this.#lost(new Error('the other end took this connection as gone'));
    if (kind === RESEND) {
      if (this.durable !== undefined) this.#resend(seq);
      return;
    }
    if (this.durable !== undefined) {
      // JetStream: a frame may come twice (its acknowledgement lost) or after a later one (its publish retried)
      if (seq < this.#expected) return;
      if (seq > this.#expected) {
        this.#ahead.set(seq, data);
        return;
      }
      this.#take(data);
      for (let next = this.#ahead.get(this.#expected); next !== undefined && !this.closed; next = this.#ahead.get(this.#expected)) {
        this.#ahead.delete(this.#expected);
        this.#take(next);
      }
      return;
    }
    // core NATS delivers at most once: a frame lost (its server went, the client moved to
    // another) leaves a gap, and a gap means this connection can no longer be trusted
    if (seq !== this.#expected >>> 0) return this.#lost(new Error(`frame ${this.#expected} from the other end never arrived (its NATS server went away?): taken as gone`));
    this.#take(data);
  }

  #take(data: Uint8Array): void {
    this.#expected++;
    const kind = data[0];
    if (kind === CLOSE) return this.#lost();
    const body = data.subarray(HEADER);
    if (kind === CHUNK) {
      this.#chunks.push(body);
      return;
    }
    let frame: Uint8Array = body;
    if (kind === LAST) {
      this.#chunks.push(body);
      frame = Buffer.concat(this.#chunks);
      this.#chunks = [];
    }
    this.deliver(deserialize(frame) as In[]);
  }

  /** A numbered frame to the other end: through JetStream when durable (published again until stored, kept until the other end has it), else core NATS. */
  #send(frame: Buffer): void {
    if (this.durable === undefined) return this.#core(frame);
    const seq = frame.readUInt32LE(1);
    this.#unconfirmed.set(seq, frame);
    this.#unconfirmedBytes += frame.length;
    for (const [old, kept] of this.#unconfirmed) {
      if (this.#unconfirmedBytes <= MAX_UNCONFIRMED_BYTES || old === seq) break;
      this.#forget(old, kept);
    }
    if (this.#loseFrame === String(seq)) return;
    this.#publish(frame, seq, String(seq));
  }

  /** Publishes durable frame `seq` under message id `<connection>.<id>` (JetStream stores one message per id), again until stored. */
  #publish(frame: Buffer, seq: number, id: string): void {
    const durable = this.durable!;
    let failingSince = 0;
    const attempt = (): void => {
      durable.d.js.publish(durable.peer, frame, { msgID: `${durable.id}.${id}`, timeout: 5000 }).then(
        () => undefined,
        (error: unknown) => {
          if (this.closed && frame[0] !== CLOSE) return;
          failingSince ||= Date.now();
          if (DEBUG) process.stderr.write(`skein nats ${process.pid} publish ${durable.id}.${seq} failed at ${Date.now()}: ${error instanceof Error ? error.message : String(error)}\n`);
          // a stream electing a leader takes seconds: the other end's silence (pings on core NATS) decides it is gone, not this
          const patience = Math.max(30_000, this.liveness);
          if (Date.now() - failingSince > patience || this.nc.isClosed()) return this.#lost(new Error(`JetStream did not store frame ${seq} for ${patience / 1000} s: ${error instanceof Error ? error.message : String(error)}`));
          setTimeout(attempt, 200).unref();
        },
      );
    };
    attempt();
  }

  /** A frame to the other end's inbox (core NATS). */
  #core(data: Uint8Array): void {
    this.#said = Date.now();
    try {
      this.nc.publish(this.peer, data);
    } catch (error) {
      this.#lost(error instanceof Error ? error : new Error(String(error)));
    }
  }

  protected write(batch: Out[]): void {
    const body = serialize(batch);
    if (body.length <= this.#maxChunk) {
      const frame = this.#frame(WHOLE, body.length);
      body.copy(frame, HEADER);
      return this.#send(frame);
    }
    for (let at = 0; at < body.length; at += this.#maxChunk) {
      const part = body.subarray(at, Math.min(body.length, at + this.#maxChunk));
      const frame = this.#frame(at + this.#maxChunk >= body.length ? LAST : CHUNK, part.length);
      part.copy(frame, HEADER);
      this.#send(frame);
    }
  }

  protected end(): void {
    // after every frame before it
    this.#send(this.#frame(CLOSE, 0));
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.sub.unsubscribe();
    this.durable?.stop();
    this.done();
  }

  #lost(error?: Error): void {
    if (this.closed) return;
    // taken as gone here: if the other end still runs, it hears so now rather than by its own silence
    if (error !== undefined && !this.nc.isClosed()) this.#core(this.#control(ABORT));
    this.#stop();
    this.ended(error);
  }
}

/** A connection request's body: the connector's inbox, its `nats.livenessMs`, and the cluster's secret when there is one. */
interface Hello {
  readonly inbox: string;
  readonly livenessMs: number;
  readonly secret: string;
  /** The connector asks for frames through JetStream: this connection's id in the stream's subjects (`<prefix>.d.<id>.c` to it, `.l` to the listener). */
  readonly durable?: string;
}

/**
 * The NATS transport for the server, credentials and prefix of `address`; `secret`: the cluster's,
 * or '' (NATS's authentication alone); `livenessMs`: as the configuration's `nats.livenessMs`.
 */
export function natsTransport(address: string, secret: string, options: { readonly livenessMs?: number } = {}): Transport {
  const base = parseNatsAddress(address);
  const liveness = options.livenessMs ?? resolveConfig()['nats.livenessMs'];
  return {
    async listen<In, Out>(at: string, accept: (comm: Comm<In, Out>) => void, options?: HandleOptions): Promise<Listener> {
      const a = { ...base, ...pick(parseNatsAddress(at)) };
      const unref = options?.unref === true;
      const shared = acquire(a, unref);
      let nc: NatsConnection;
      try {
        nc = await shared.nc;
      } catch (error) {
        release(shared, unref);
        throw error;
      }
      const comms = new Set<Comm<In, Out>>();
      const listening = nc.subscribe(a.subject, {
        callback: (error, msg) => {
          if (error !== null) return;
          let hello: Hello;
          try {
            hello = deserialize(msg.data) as Hello;
          } catch {
            return;
          }
          if (typeof hello?.inbox !== 'string' || typeof hello.livenessMs !== 'number' || (secret !== '' && !sameSecret({ secret: hello.secret }, secret))) {
            msg.respond(serialize({ refused: 'the cluster secret does not match' }));
            return;
          }
          void (async () => {
            const inbox = `_SKEIN.${randomBytes(12).toString('hex')}`;
            let comm: NatsComm<In, Out> | undefined;
            const early: Uint8Array[] = [];
            const take = (data: Uint8Array): void => void (comm === undefined ? early.push(data) : comm.received(data));
            const sub = nc.subscribe(inbox, { callback: (e, m) => void (e === null && take(m.data)) });
            const durable = typeof hello.durable === 'string' && /^[0-9a-f]{24}$/.test(hello.durable) ? await openDurable(nc, a.prefix, hello.durable, 'l', liveness, take) : undefined;
            shared.users++;
            if (!unref) shared.held++;
            comm = new NatsComm<In, Out>(
              nc,
              sub,
              hello.inbox,
              () => {
                comms.delete(comm!);
                release(shared, unref);
              },
              liveness,
              hello.livenessMs,
              durable,
            );
            comms.add(comm);
            msg.respond(serialize({ inbox, livenessMs: liveness, durable: durable !== undefined }));
            for (const d of early.splice(0)) comm.received(d);
            accept(comm);
          })();
        },
      });
      // the subscription is in place on the server before anyone is told where to connect
      await nc.flush();
      return {
        address: addressOf(a, a.subject),
        close: async () => {
          listening.unsubscribe();
          for (const c of [...comms]) c.close();
          await nc.flush().catch(() => undefined);
          release(shared, unref);
        },
      };
    },

    async connect<In, Out>(to: string, options?: HandleOptions): Promise<Comm<In, Out>> {
      const a = { ...base, ...pick(parseNatsAddress(to)) };
      const unref = options?.unref === true;
      const shared = acquire(a, unref);
      try {
        const nc = await shared.nc;
        const inbox = `_SKEIN.${randomBytes(12).toString('hex')}`;
        let comm: NatsComm<In, Out> | undefined;
        const early: Uint8Array[] = [];
        const take = (data: Uint8Array): void => void (comm === undefined ? early.push(data) : comm.received(data));
        const sub = nc.subscribe(inbox, { callback: (e, m) => void (e === null && take(m.data)) });
        // to the scheduler, frames through JetStream where the server has it: a NATS server lost loses none
        const id = randomBytes(12).toString('hex');
        let durable = a.subject.endsWith('.scheduler') ? await openDurable(nc, a.prefix, id, 'c', liveness, take) : undefined;
        let reply: { inbox?: string; livenessMs?: number; refused?: string; durable?: boolean };
        try {
          reply = deserialize((await nc.request(a.subject, serialize({ inbox, livenessMs: liveness, secret, ...(durable !== undefined ? { durable: id } : {}) } satisfies Hello), { timeout: 10_000 })).data) as typeof reply;
        } catch (error) {
          sub.unsubscribe();
          durable?.stop();
          const why = error instanceof Error ? error.message : String(error);
          throw new Error(`Cannot connect to ${addressOf(a, a.subject)}: ${/no responders|503/i.test(why) ? `nothing listens there (is the ${a.subject.endsWith('.scheduler') ? 'scheduler' : 'worker'} running, with the same NATS server and prefix?)` : why}`);
        }
        if (reply.inbox === undefined) {
          sub.unsubscribe();
          durable?.stop();
          throw new Error(`Cannot connect to ${addressOf(a, a.subject)}: ${reply.refused ?? 'refused'}`);
        }
        // a listener without JetStream: core NATS both ways
        if (reply.durable !== true) {
          durable?.stop();
          durable = undefined;
        }
        comm = new NatsComm<In, Out>(nc, sub, reply.inbox, () => release(shared, unref), liveness, reply.livenessMs ?? liveness, durable);
        for (const d of early) comm.received(d);
        return comm;
      } catch (error) {
        release(shared, unref);
        throw error;
      }
    },
  };
}

/** What an address adds to the transport's own: its prefix and subject (its server and credentials are the transport's). */
function pick(a: NatsAddress): Pick<NatsAddress, 'prefix' | 'subject'> {
  return { prefix: a.prefix, subject: a.subject };
}
