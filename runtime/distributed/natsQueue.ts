/**
 * The shared work queue of a cluster over NATS: ready tasks that no worker has room for and that
 * need nothing from any worker (no inputs, no restriction) wait in JetStream, on the subject
 * `<prefix>.d.queue` of the cluster's stream, instead of in the scheduler's memory; any worker
 * with a free slot takes the next one. A worker holds at most as many as its slots allow, so the
 * queue balances the load by itself, and a task keeps its place through a NATS server's loss.
 *
 * Taking a task is a claim: the worker pulls a message (the task's key and its queue number) and
 * asks the scheduler, which still owns every task's state; the scheduler answers with the task
 * (`compute-task`, the grant) or `claim-refused`. So a message delivered twice (its
 * acknowledgement lost, its worker slow) runs once. The worker tells JetStream it is still
 * working on a message while its task runs and acknowledges it when the task ends; a worker that
 * dies stops doing so, and after `ACK_WAIT_MS` JetStream hands the message to another worker. The
 * scheduler takes that redelivery as the first worker's death when it has not heard from it
 * (pings included) for DURABLE_SILENCE_MS: the task runs again, counted toward `allowedFailures`
 * as when a worker's connection is lost. Until then the claim is refused with `later`, and the
 * message comes back a second on.
 */
import { deserialize, serialize } from 'node:v8';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { DURABLE_SILENCE_MS, durableStream, retrying } from './natsComm.js';

/** JetStream hands an unacknowledged message to another worker after this long (while its task runs, the worker says it is working). */
export const ACK_WAIT_MS = 2000;
const CONSUMER = 'queue';

export function queueSubject(prefix: string): string {
  return `${prefix}.d.queue`;
}

/** One queued task: its key and its queue number (the scheduler's, fresh each time the task is queued). */
export interface QueuedTask {
  readonly key: string;
  readonly seq: number;
}

/** The scheduler's side: the queue emptied of a previous scheduler's tasks, then fed. */
export interface QueueFeeder {
  /** A worker silent this long (pings included) whose task's message came again is taken as dead for that task. */
  readonly silenceMs: number;
  publish(tasks: readonly QueuedTask[]): void;
  close(): Promise<void>;
}

export async function openQueueFeeder(nc: NatsConnection, prefix: string): Promise<QueueFeeder | undefined> {
  const d = await durableStream(nc, prefix).catch(() => undefined);
  if (d === undefined) return undefined;
  const subject = queueSubject(prefix);
  // a scheduler that went before this one left tasks no one will grant now
  await d.jsm.consumers.delete(d.stream, CONSUMER).catch(() => undefined);
  await d.jsm.streams.purge(d.stream, { filter: subject }).catch(() => undefined);
  await d.jsm.consumers.add(d.stream, {
    durable_name: CONSUMER,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: 100_000,
    max_waiting: 4096,
  });
  // each scheduler's message ids are its own: a number reused by the next one is not taken for a copy
  const run = `${process.pid}.${Date.now().toString(36)}`;
  let closed = false;
  return {
    silenceMs: Math.max(ACK_WAIT_MS, DURABLE_SILENCE_MS),
    publish(tasks) {
      for (const task of tasks) {
        const body = serialize(task);
        // published again while the stream elects a leader (a copy inside the window is stored once)
        void retrying(() => d.js.publish(subject, body, { msgID: `${run}.${task.seq}`, timeout: 5000 }), 60_000, () => closed).catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      await d.jsm.streams.purge(d.stream, { filter: subject }).catch(() => undefined);
    },
  };
}

/** A message a worker pulled: the task it names, whether JetStream delivered it before, and its acknowledgements. */
export interface QueueItem extends QueuedTask {
  readonly redelivered: boolean;
  /** The task ended (or was let go): the message leaves the queue. */
  done(): void;
  /** The scheduler refused the claim: the message leaves the queue, never delivered again. */
  drop(): void;
  /** This worker will not run it now: JetStream hands it out again after `delayMs` (at once without). */
  giveBack(delayMs?: number): void;
  /** Still running: JetStream waits another ACK_WAIT_MS before handing it to another worker. */
  working(): void;
}

/** A worker's side: as many pull requests open as `slots()` says (asked again at each `refill()`); each message comes to `onItem`. */
export interface QueueTaker {
  refill(): void;
  close(): void;
}

export async function openQueueTaker(nc: NatsConnection, prefix: string, slots: () => number, onItem: (item: QueueItem) => void): Promise<QueueTaker | undefined> {
  const d = await durableStream(nc, prefix).catch(() => undefined);
  if (d === undefined) return undefined;
  const consumer = await d.js.consumers.get(d.stream, CONSUMER).catch(() => undefined);
  if (consumer === undefined) return undefined;
  /** Messages asked for and not yet come, over all pull requests open. */
  let open = 0;
  let closed = false;
  const refill = (): void => {
    const wanted = closed ? 0 : slots() - open;
    if (wanted > 0) void pull(wanted);
  };
  // one pull request for as many messages as there are free slots: messages come as they are
  // published, and the request ends when it has them all or after 5 s
  const pull = async (n: number): Promise<void> => {
    open += n;
    let left = n;
    try {
      const batch = await consumer.fetch({ max_messages: n, expires: 5000 });
      for await (const m of batch) {
        left--;
        open--;
        if (closed) m.nak();
        else onItem(item(m));
      }
    } catch {
      // a server lost while the request was open: asked again shortly, not in a tight loop
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
    } finally {
      open -= left;
    }
    refill();
  };
  refill();
  return {
    refill,
    close() {
      closed = true;
    },
  };
}

function item(m: JsMsg): QueueItem {
  const task = deserialize(m.data) as QueuedTask;
  return {
    key: task.key,
    seq: task.seq,
    redelivered: m.redelivered,
    done: () => m.ack(),
    drop: () => m.term(),
    giveBack: (delayMs) => m.nak(delayMs),
    working: () => m.working(),
  };
}
