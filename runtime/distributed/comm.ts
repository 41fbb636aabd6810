/**
 * The transport interface of the distributed scheduler, and its two local implementations.
 * Nothing above this file knows what carries a message: a `Comm` sends and receives typed
 * messages, a `Transport` listens at an address and connects to one.
 *
 * - `inproc://<name>`: both ends in this process; messages are handed over as they are (no copy),
 *   for `processes: false` clusters (debugging: one process, every worker a set of threads).
 * - `tcp://127.0.0.1:<port>` and `unix://<path>`: sockets; each frame is a 4-byte length and the
 *   v8 serialization of a batch of messages (Buffers, typed arrays, Maps, Dates survive). Every
 *   connection opens with the cluster's shared secret; a listener drops a connection whose first
 *   frame is anything else.
 *
 * Both batch: messages sent in the same synchronous stretch (handling one batch of messages,
 * say) travel together, as Dask's BatchedSend does, without waiting for a later turn of the
 * event loop.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { deserialize, serialize } from 'node:v8';

/** One end of a connection. `In` is what arrives, `Out` what is sent. */
export interface Comm<In, Out> {
  /** Queues a message; messages queued in one turn are sent as one batch. */
  send(message: Out): void;
  /** Receives every message, in order. Set once. */
  onMessage(handler: (message: In) => void): void;
  /** Called once when the connection ends (closed by either side, or lost). */
  onClose(handler: (error?: Error) => void): void;
  close(): void;
  readonly closed: boolean;
  /**
   * When the other end was last heard, pings included, where the transport pings (NATS): messages
   * may wait in a stream that is electing a leader while the other end is plainly there.
   */
  heardAt?(): number;
}

export interface Listener {
  readonly address: string;
  close(): Promise<void>;
}

export interface HandleOptions {
  /** Never keep this process alive by itself (the cluster and client in a user's script). */
  readonly unref?: boolean;
}

export interface Transport {
  /** Listens at `address` (`tcp://127.0.0.1:0` picks a free port); each connection that proves the secret goes to `accept`. */
  listen<In, Out>(address: string, accept: (comm: Comm<In, Out>) => void, options?: HandleOptions): Promise<Listener>;
  connect<In, Out>(address: string, options?: HandleOptions): Promise<Comm<In, Out>>;
}

/** An address reached through NATS (`nats://`, `tls://`): natsComm.ts. */
export function overNats(address: string): boolean {
  return /^(nats|tls):\/\//.test(address);
}

/** The transport for an address's scheme (`nats://`: natsComm.ts, given the address with its credentials). */
export async function transportFor(address: string, secret: string): Promise<Transport> {
  if (address.startsWith('inproc://')) return inprocTransport;
  if (address.startsWith('tcp://') || address.startsWith('unix://')) return socketTransport(secret);
  if (overNats(address)) return (await import('./natsComm.js')).natsTransport(address, secret);
  throw new TypeError(`Cannot connect to ${JSON.stringify(address)}: a scheduler address starts with tcp://, unix://, nats:// or inproc:// (for example tcp://127.0.0.1:8786).`);
}

// ---- batching ----------------------------------------------------------------------------

/** What every transport's comm shares: batching, early messages held, one close. */
export abstract class BatchingComm<In, Out> implements Comm<In, Out> {
  #queue: Out[] = [];
  #scheduled = false;
  #handler: ((message: In) => void) | undefined;
  #early: In[][] = [];
  #closeHandlers: Array<(error?: Error) => void> = [];
  closed = false;

  send(message: Out): void {
    if (this.closed) return;
    this.#queue.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // everything sent while handling one batch of messages goes out together, with no wait for the next turn
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    if (this.closed || this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.write(batch);
  };

  protected abstract write(batch: Out[]): void;
  protected abstract end(): void;

  /** Hands a batch that arrived to the handler (held until there is one). */
  protected deliver(batch: In[]): void {
    if (this.#handler === undefined) {
      this.#early.push(batch);
      return;
    }
    for (const m of batch) this.#handler(m);
  }

  onMessage(handler: (message: In) => void): void {
    this.#handler = handler;
    const early = this.#early;
    this.#early = [];
    for (const batch of early) for (const m of batch) handler(m);
  }

  onClose(handler: (error?: Error) => void): void {
    if (this.closed) queueMicrotask(() => handler());
    else this.#closeHandlers.push(handler);
  }

  /** Marks the comm closed and tells the close handlers, once. */
  protected ended(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.#closeHandlers.splice(0)) h(error);
  }

  close(): void {
    if (this.closed) return;
    this.#flush();
    this.end();
    this.ended();
  }
}

// ---- in-process ----------------------------------------------------------------------------

class InprocComm<In, Out> extends BatchingComm<In, Out> {
  peer: InprocComm<Out, In> | undefined;
  protected write(batch: Out[]): void {
    const peer = this.peer!;
    if (!peer.closed) peer.deliver(batch);
  }
  protected end(): void {
    const peer = this.peer!;
    // the other side sees the end after what was already sent to it
    setImmediate(() => peer.ended());
  }
}

const inprocListeners = new Map<string, (comm: Comm<unknown, unknown>) => void>();
let inprocCount = 0;

export const inprocTransport: Transport = {
  async listen<In, Out>(address: string, accept: (comm: Comm<In, Out>) => void): Promise<Listener> {
    const name = address === 'inproc://' ? `inproc://${process.pid}/${++inprocCount}` : address;
    if (inprocListeners.has(name)) throw new Error(`${name} is already listening`);
    inprocListeners.set(name, accept as (comm: Comm<unknown, unknown>) => void);
    return {
      address: name,
      close: async () => {
        inprocListeners.delete(name);
      },
    };
  },
  async connect<In, Out>(address: string): Promise<Comm<In, Out>> {
    const accept = inprocListeners.get(address);
    if (accept === undefined) throw new Error(`Nothing listens at ${address}`);
    const mine = new InprocComm<In, Out>();
    const theirs = new InprocComm<Out, In>();
    mine.peer = theirs;
    theirs.peer = mine;
    accept(theirs as unknown as Comm<unknown, unknown>);
    return mine;
  },
};

// ---- sockets ------------------------------------------------------------------------------

class SocketComm<In, Out> extends BatchingComm<In, Out> {
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(
    private readonly socket: Socket,
    /** Called with the first frame; returns false to drop the connection (the secret check). */
    private check: ((first: unknown) => boolean) | undefined,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.#received(chunk));
    socket.on('error', (error) => this.ended(error));
    socket.on('close', () => this.ended());
  }

  #received(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 4) {
      let data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      const length = data.readUInt32LE(0);
      if (data.length < 4 + length) {
        this.#chunks = [data];
        return;
      }
      const frame = data.subarray(4, 4 + length);
      data = data.subarray(4 + length);
      this.#chunks = data.length > 0 ? [data] : [];
      this.#buffered = data.length;
      const payload = deserialize(frame) as unknown;
      if (this.check !== undefined) {
        const ok = this.check(payload);
        this.check = undefined;
        if (!ok) {
          this.socket.destroy();
          return;
        }
        continue;
      }
      this.deliver(payload as In[]);
    }
  }

  /** Sends one frame now. */
  frame(payload: unknown): void {
    const body = serialize(payload);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(body.length, 0);
    this.socket.write(head);
    this.socket.write(body);
  }

  protected write(batch: Out[]): void {
    if (!this.socket.destroyed) this.frame(batch);
  }

  protected end(): void {
    this.socket.end();
    this.socket.destroySoon();
  }
}

/** The cluster's secret, compared in constant time (`given`: the first frame, `{ secret }`). */
export function sameSecret(given: unknown, secret: string): boolean {
  if (typeof given !== 'object' || given === null || typeof (given as { secret?: unknown }).secret !== 'string') return false;
  const a = Buffer.from((given as { secret: string }).secret);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function socketTarget(address: string): { port: number; host: string } | { path: string } {
  if (address.startsWith('unix://')) return { path: address.slice('unix://'.length) };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(address);
  if (!m) throw new TypeError(`Not a tcp address: ${JSON.stringify(address)} (expected tcp://HOST:PORT)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function socketTransport(secret: string): Transport {
  return {
    async listen<In, Out>(address: string, accept: (comm: Comm<In, Out>) => void, options?: HandleOptions): Promise<Listener> {
      const target = socketTarget(address);
      const sockets = new Set<Socket>();
      const server: Server = createServer((socket) => {
        if (options?.unref === true) socket.unref();
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        accept(new SocketComm<In, Out>(socket, (first) => sameSecret(first, secret)));
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        if ('path' in target) server.listen(target.path, resolve);
        else server.listen(target.port, target.host, resolve);
      });
      if (options?.unref === true) server.unref();
      const bound = server.address();
      const where = typeof bound === 'string' || bound === null ? address : `tcp://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
      return {
        address: where,
        close: () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy();
            server.close(() => resolve());
          }),
      };
    },
    async connect<In, Out>(address: string, options?: HandleOptions): Promise<Comm<In, Out>> {
      const target = socketTarget(address);
      const socket = createConnection(target as { port: number; host: string });
      if (options?.unref === true) socket.unref();
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', (error) => reject(new Error(`Cannot connect to the scheduler at ${address}: ${error.message}`)));
      });
      const comm = new SocketComm<In, Out>(socket, undefined);
      comm.frame({ secret });
      return comm;
    },
  };
}
