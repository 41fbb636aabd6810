/**
 * Workers' liveness in a JetStream key-value bucket, beside the pings of their connections: over
 * NATS each worker puts its key (`<name>.<pid>`: name, data address, threads, time) into the bucket
 * `skein_<prefix>_workers` every heartbeat, and a key lives half of `nats.livenessMs` after its
 * last put. The scheduler sweeps the bucket: a worker it knows whose key has expired is gone, so a
 * worker killed is noticed in about half the time its silent connection would take. Anyone with
 * NATS sees the live workers (`nats kv ls skein_skein_workers`).
 *
 * The bucket is a stream: while it has no leader (a server lost, an election: seconds) no key can
 * be put and all of them would expire. So the scheduler puts a key of its own at each sweep, and
 * judges expiries only when its own puts have succeeded for a whole time-to-live.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { type KV, Kvm } from '@nats-io/kv';
import { resolveConfig } from '../core/config.js';
import { clusterReplicas, parseNatsAddress, subjectToken } from './natsComm.js';

/** How long a key lives after its last put: half of `nats.livenessMs` (a second at least). */
function keyLifetimeMs(): number {
  return Math.max(1000, Math.floor(resolveConfig()['nats.livenessMs'] / 2));
}

/** The bucket's name for a Skein cluster's prefix. */
export function livenessBucketName(prefix: string): string {
  return `skein_${prefix}_workers`;
}

/** The key of the worker at a NATS data address (`…/PREFIX/worker/NAME/PID`), or undefined. */
export function livenessKey(dataAddress: string): string | undefined {
  const m = /\/worker\/([^/]+)\/(\d+)$/.exec(dataAddress);
  return m === null ? undefined : `${subjectToken(decodeURIComponent(m[1]!))}.${m[2]}`;
}

/** The bucket (made if missing; a key lives `ttlMs` after its last put), or undefined without JetStream. */
export async function livenessBucket(nc: NatsConnection, address: string, ttlMs: number): Promise<KV | undefined> {
  const name = livenessBucketName(parseNatsAddress(address).prefix);
  try {
    return await new Kvm(nc).create(name, { ttl: ttlMs, history: 1, replicas: resolveConfig()['nats.replicas'] ?? clusterReplicas(nc) });
  } catch {
    return undefined;
  }
}

/** A worker's side: its key put now and at every `beat()`, deleted at `stop()`. */
export async function announceWorker(nc: NatsConnection, scheduler: string, dataAddress: string, info: { readonly name: string; readonly nthreads: number }): Promise<{ beat(): void; stop(): Promise<void> } | undefined> {
  const key = livenessKey(dataAddress);
  const kv = key === undefined ? undefined : await livenessBucket(nc, scheduler, keyLifetimeMs());
  if (kv === undefined || key === undefined) return undefined;
  const value = () => JSON.stringify({ ...info, address: dataAddress, pid: process.pid, time: Date.now() });
  const beat = (): void => void kv.put(key, value()).catch(() => undefined);
  beat();
  return { beat, stop: () => kv.delete(key).then(() => undefined, () => undefined) };
}

/**
 * The scheduler's sweep: every half time-to-live, its own key put (the bucket's health), and once
 * its puts have succeeded for a whole time-to-live, `gone(address)` for each of `workers()` (NATS
 * data addresses, each with the time it joined) whose key is missing and that joined before that.
 */
export async function sweepLiveness(nc: NatsConnection, address: string, workers: () => Iterable<readonly [address: string, joined: number]>, gone: (address: string) => void): Promise<(() => void) | undefined> {
  const ttl = keyLifetimeMs();
  const kv = await livenessBucket(nc, address, ttl);
  if (kv === undefined) return undefined;
  let healthySince = 0;
  let busy = false;
  const sweep = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      try {
        await kv.put('scheduler', JSON.stringify({ pid: process.pid, time: Date.now() }));
        healthySince ||= Date.now();
      } catch {
        healthySince = 0;
        return;
      }
      const now = Date.now();
      if (now - healthySince < ttl) return;
      const present = new Set<string>();
      for await (const k of await kv.keys()) present.add(k);
      for (const [worker, joined] of workers()) {
        const key = livenessKey(worker);
        if (key !== undefined && now - joined > ttl && !present.has(key)) gone(worker);
      }
    } catch {
      // the bucket unreachable for a moment: the next sweep looks again
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sweep(), Math.floor(ttl / 2));
  timer.unref();
  void sweep();
  return () => clearInterval(timer);
}

/** The keys of the workers alive in the bucket now (the scheduler's own left out), or undefined without one. */
export async function liveWorkerKeys(nc: NatsConnection, address: string): Promise<Set<string> | undefined> {
  const kv = await livenessBucket(nc, address, keyLifetimeMs());
  if (kv === undefined) return undefined;
  const keys = new Set<string>();
  for await (const k of await kv.keys()) if (k !== 'scheduler') keys.add(k);
  return keys;
}
