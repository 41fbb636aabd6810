/**
 * The scheduler's journal over NATS with JetStream: what a scheduler started again needs to go
 * on where the one before it stopped. The scheduler appends, in order, each graph a client
 * submits, each scatter, each release or cancellation, each client that leaves, and each task that
 * completes (its key reached memory on a worker); a scheduler starting on the same prefix reads
 * the journal back, waits for the workers that kept their results, and takes up the graphs: what
 * a worker still holds and the journal says completed is not computed again, and a client that
 * joins again finds its futures where they were.
 *
 * The journal is the stream `SKEIN_<prefix>_JOURNAL` (subject `<prefix>.journal`, kept until
 * purged, in `nats.replicas` copies). Records are gathered for one turn of the event loop and
 * published as one message (parts of at most PART_BYTES when larger), one publish after the other
 * so their order is the scheduler's; a publish that fails (a stream electing a leader) is tried
 * again. The journal is purged when the scheduler holds no task any more (every graph done and
 * let go) and on `client.restart()`: it never holds more than the work in hand.
 */
import { deserialize, serialize } from 'node:v8';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, RetentionPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStream, retrying } from './natsComm.js';
import type { TaskSpec } from './protocol.js';

export type JournalRecord =
  | { readonly t: 'graph'; readonly client: string; readonly tasks: readonly TaskSpec[]; readonly wanted: readonly string[] }
  | { readonly t: 'scatter'; readonly client: string; readonly keys: readonly string[] }
  | { readonly t: 'release'; readonly client: string; readonly keys: readonly string[] }
  | { readonly t: 'client-gone'; readonly client: string }
  | { readonly t: 'done'; readonly keys: readonly string[] };

/** A message's first byte: a whole batch of records, or a part of one (more to come, or the last). */
const WHOLE = 0;
const PART = 1;
const LAST = 2;
const PART_BYTES = 512 * 1024;

export interface Journal {
  /** Records to append, in this order after those before. */
  append(record: JournalRecord): void;
  /** Everything appended so far is void (a purge, in order with the appends). */
  reset(): void;
  /** Whether anything was appended since the last reset (or the start, counting what was replayed). */
  readonly dirty: boolean;
  /** Appends still on their way are published first. */
  close(): Promise<void>;
}

export function journalStreamName(prefix: string): string {
  return `SKEIN_${prefix}_JOURNAL`;
}

/** The journal of a prefix, made if missing, and the records it held (a scheduler before this one). */
export async function openJournal(nc: NatsConnection, prefix: string): Promise<{ journal: Journal; replayed: JournalRecord[] } | undefined> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: 5000 });
  } catch {
    return undefined;
  }
  const stream = journalStreamName(prefix);
  const subject = `${prefix}.journal`;
  if (!(await ensureStream(nc, jsm, { name: stream, subjects: [subject], retention: RetentionPolicy.Limits }).then(() => true, () => false))) return undefined;
  const js = jetstream(nc);
  const replayed = await readAll(js, jsm, stream);
  return { journal: new NatsJournal(js, jsm, stream, subject, replayed.length > 0), replayed };
}

async function readAll(js: JetStreamClient, jsm: JetStreamManager, stream: string): Promise<JournalRecord[]> {
  const state = (await jsm.streams.info(stream)).state;
  if (state.messages === 0) return [];
  const records: JournalRecord[] = [];
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  let parts: Uint8Array[] = [];
  for await (const m of messages) {
    const kind = m.data[0];
    const body = m.data.subarray(1);
    if (kind === PART) parts.push(body);
    else {
      const whole = kind === LAST ? Buffer.concat([...parts, body]) : body;
      parts = [];
      records.push(...(deserialize(whole) as JournalRecord[]));
    }
    if (m.seq >= state.last_seq) break;
  }
  await messages.close().catch(() => undefined);
  return records;
}

class NatsJournal implements Journal {
  #pending: JournalRecord[] = [];
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  dirty: boolean;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly subject: string,
    dirty: boolean,
  ) {
    this.dirty = dirty;
  }

  append(record: JournalRecord): void {
    this.dirty = true;
    this.#pending.push(record);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  reset(): void {
    this.#flush();
    this.dirty = false;
    this.#then(() => this.jsm.streams.purge(this.stream).then(() => undefined));
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const body = serialize(this.#pending);
    this.#pending = [];
    if (body.length <= PART_BYTES) return this.#publish(WHOLE, body);
    for (let at = 0; at < body.length; at += PART_BYTES) this.#publish(at + PART_BYTES >= body.length ? LAST : PART, body.subarray(at, at + PART_BYTES));
  }

  #publish(kind: number, body: Uint8Array): void {
    const data = Buffer.concat([Buffer.of(kind), body]);
    this.#then(() => this.js.publish(this.subject, data, { timeout: 5000 }).then(() => undefined));
  }

  /** `step` after every step before it, tried again while it fails (a stream electing a leader), for a minute at most. */
  #then(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(() =>
      retrying(step, 60_000).catch((error: unknown) => {
        process.stderr.write(`skein scheduler: the journal could not be written for a minute (${error instanceof Error ? error.message : String(error)}); a scheduler started again would not find all of it\n`);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    await this.#chain;
  }
}
