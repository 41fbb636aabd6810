// The distributed scheduler through NATS (a nats-server of the test's own, on loopback): the
// transport's connections (order, V8 values, a value larger than a NATS message in chunks, the
// secret, a listener that is not there, a peer that dies without a word), then a cluster started
// with `skein scheduler --nats` and `skein worker --nats` in another folder, with and without a
// token, and a worker killed in the middle of a run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { config } from 'skein';
import { Client } from 'skein/distributed';
import type { Comm } from '../../runtime/distributed/comm.js';
import { natsTransport, parseNatsAddress, shownAddress } from '../../runtime/distributed/natsComm.js';
import { inc, napPid, sleep, slowInc, sum } from '../data/ops.js';
import { ones, total } from '../data/arrays.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type NatsServer, startNatsCluster, startNatsServer } from './natsServer.js';
import { until } from '../until.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'skein.js');

function receive<T>(comm: Comm<T, unknown>, n: number): Promise<T[]> {
  const got: T[] = [];
  return new Promise((resolve) => comm.onMessage((m) => (got.push(m), got.length === n && resolve(got))));
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const name of Object.keys(e)) if (name.startsWith('SKEIN_')) delete e[name];
  return { ...e, ...extra };
}

/** Everything `child` wrote to stderr so far, and a wait for a line matching `pattern`. */
function stderrOf(child: ChildProcess): { text: () => string; line: (pattern: RegExp) => Promise<RegExpMatchArray> } {
  let text = '';
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text, line: (pattern) => until(`a line matching ${pattern} (so far: ${text})`, () => pattern.exec(text) ?? undefined, 20_000) };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/** Processes whose command line has `text`. */
function processesWith(text: string): string[] {
  const r = spawnSync('pgrep', ['-af', text], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
}

describe('NATS addresses', () => {
  it('name a server, or several of one NATS cluster, with credentials that are never shown, and a prefix', () => {
    const a = parseNatsAddress('nats://s3cret@10.0.0.5:4222,10.0.0.6:4223,nats://10.0.0.7/team-a');
    assert.deepEqual({ ...a }, { server: 'nats://10.0.0.5:4222', servers: ['nats://10.0.0.5:4222', 'nats://10.0.0.6:4223', 'nats://10.0.0.7:4222'], token: 's3cret', prefix: 'team-a', subject: 'team-a.scheduler' });
    assert.equal(parseNatsAddress('nats://u:p@h:1/skein/worker/w.1/42').subject, 'skein.worker.w_1.42');
    assert.equal(shownAddress('nats://s3cret@10.0.0.5:4222,nats://u:p@10.0.0.6:4223'), 'nats://10.0.0.5:4222,nats://10.0.0.6:4223');
    assert.throws(() => parseNatsAddress('http://s3cret@h:4222'), { message: 'Not a NATS address: "http://h:4222" (expected nats://HOST:PORT)' });
  });
});

describe('NATS transport', () => {
  let nats: Awaited<ReturnType<typeof startNatsServer>>;
  before(async () => (nats = await startNatsServer()));
  after(() => nats?.stop());

  it('carries messages in order both ways, V8 values intact, and a 3 MB value in chunks of at most 1 MB', async () => {
    const transport = natsTransport(nats.url, 's3cret');
    let server: Comm<unknown, unknown> | undefined;
    const listener = await transport.listen<unknown, unknown>(`${nats.url}/comm-test`, (comm) => {
      server = comm;
      comm.onMessage((m) => comm.send({ echo: m }));
    });
    try {
      assert.equal(listener.address, `nats://127.0.0.1:${nats.port}/comm-test`);
      const client = await transport.connect<unknown, unknown>(listener.address);
      const replies = receive(client, 3);
      const big = ones(400_000); // 3.2 MB
      client.send(1);
      client.send({ b: Buffer.from('hi'), m: new Map([['k', 2]]), big });
      client.send('three');
      const got = (await replies) as Array<{ echo: unknown }>;
      assert.equal(got[0]!.echo, 1);
      const second = got[1]!.echo as { b: Uint8Array; m: Map<string, number>; big: Float64Array };
      assert.equal(Buffer.from(second.b).toString(), 'hi');
      assert.equal(second.m.get('k'), 2);
      assert.ok(second.big instanceof Float64Array);
      assert.equal(total(second.big), 400_000);
      assert.equal(got[2]!.echo, 'three');
      const closed = new Promise<Error | undefined>((resolve) => server!.onClose(resolve));
      client.close();
      assert.equal(await closed, undefined, 'a close said, not a loss');
    } finally {
      await listener.close();
    }
  });

  it('refuses a connection without the cluster secret, and says when nothing listens', async () => {
    const listener = await natsTransport(nats.url, 'right').listen<unknown, unknown>(`${nats.url}/guarded`, () => assert.fail('no comm for a stranger'));
    try {
      await assert.rejects(natsTransport(nats.url, 'wrong').connect(listener.address), { message: `Cannot connect to nats://127.0.0.1:${nats.port}/guarded: the cluster secret does not match` });
    } finally {
      await listener.close();
    }
    await assert.rejects(natsTransport(nats.url, '').connect(nats.url), {
      message: `Cannot connect to nats://127.0.0.1:${nats.port}: nothing listens there (is the scheduler running, with the same NATS server and prefix?)`,
    });
  });

  /**
   * A listener at a scheduler's address (so its connections go through JetStream) and a client
   * connected to it: what the listener got, what came back to the client, and whether the client's
   * connection closed. `answer`: what the listener sends back for each message, if anything.
   */
  async function durablePair(prefix: string, answer?: (m: number) => number) {
    const transport = natsTransport(nats.url, '');
    const got: number[] = [];
    let server: Comm<number, number> | undefined;
    const listener = await transport.listen<number, number>(`${nats.url}/${prefix}`, (comm) => {
      server = comm;
      comm.onMessage((m) => {
        got.push(m);
        if (answer !== undefined) comm.send(answer(m));
      });
    });
    const client = await transport.connect<number, number>(listener.address);
    const echoed: number[] = [];
    client.onMessage((m) => echoed.push(m));
    const state = { closed: 'open' as Error | undefined | 'open' };
    client.onClose((e) => (state.closed = e));
    return { listener, client, got, echoed, state, server: () => server };
  }

  it('carries a connection to the scheduler through JetStream: its NATS server killed and started again, nothing lost, nothing twice, in order', async () => {
    const { listener, client, got, echoed, state, server } = await durablePair('durable');
    try {
      for (let i = 0; i < 100; i++) client.send(i);
      await until('the first 100', () => (got.length === 100 ? true : undefined));
      const restarted = nats.restart(1500);
      // sent while the server is down: published again until it is back
      for (let i = 100; i < 200; i++) client.send(i);
      await restarted;
      for (let i = 200; i < 300; i++) client.send(i);
      server()!.send(-1);
      await until('all 300 at the listener, and its reply', () => (got.length >= 300 && echoed.length === 1 ? true : undefined), 30_000);
      assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i));
      assert.deepEqual(echoed, [-1]);
      assert.equal(state.closed, 'open', 'the connection lived through it');
      client.close();
    } finally {
      await listener.close();
    }
  });

  it('asks again for a frame that JetStream never stored, and carries on in order', async () => {
    // frame 5 of each end is taken as stored and is not (SKEIN_NATS_LOSE_FRAME, read as each connection is made).
    // The client's: frames 6-9 wait behind it at the listener. The listener's (its answers to 5-9,
    // sent in one frame once 5 came again): nothing comes after it, the listener's pings say it was
    // sent. Each receiver asks for its missing frame after 3 s; the sender publishes it again.
    // Without this, the run of a multi-host test hung: a frame to the client never came, and the
    // frames after it waited forever while pings said the scheduler was there.
    process.env.SKEIN_NATS_LOSE_FRAME = '5';
    const { listener, client, got, echoed, state, server } = await durablePair('gap', (m) => -m);
    try {
      const start = Date.now();
      for (let i = 0; i < 10; i++) {
        client.send(i);
        await new Promise((r) => setTimeout(r, 20)); // one frame each
      }
      await until('all 10 at the listener and back', () => (got.length === 10 && echoed.length === 10 ? true : undefined), 20_000);
      const took = Date.now() - start;
      assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => i));
      assert.deepEqual(echoed, Array.from({ length: 10 }, (_, i) => -i));
      assert.ok(took >= 3000, `the gap waited for GAP_MS (${took} ms)`);
      assert.equal(state.closed, 'open', 'the connection lived through it');
      assert.equal(server()?.closed, false);
      client.close();
    } finally {
      delete process.env.SKEIN_NATS_LOSE_FRAME;
      await listener.close();
    }
  });

  it('takes a peer that dies without a word as gone once it has been silent for livenessMs', async () => {
    let lost: (error: Error | undefined) => void = () => undefined;
    const gone = new Promise<Error | undefined>((resolve) => (lost = resolve));
    const listener = await natsTransport(nats.url, '', { livenessMs: 500 }).listen<unknown, unknown>(`${nats.url}/liveness`, (comm) => {
      comm.onMessage(() => undefined);
      comm.onClose(lost);
    });
    const peer = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/data/scripts/natsPeer.ts'), nats.url, listener.address], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await until('the peer to connect', () => new Promise<true | undefined>((resolve) => peer.stdout!.once('data', () => resolve(true))));
      const killedAt = Date.now();
      peer.kill('SIGKILL');
      const error = await gone;
      const after = Date.now() - killedAt;
      assert.equal(error?.message, 'no word from the other end for 500 ms (nats.livenessMs): taken as gone');
      assert.ok(after >= 400 && after < 5_000, `noticed after ${after} ms`);
    } finally {
      peer.kill('SIGKILL');
      await listener.close();
    }
  });
});

describe('a cluster through NATS, started from the command line', () => {
  // made when the suite runs (not when the file loads: a filtered run would leave it)
  let elsewhere = '';
  before(() => (elsewhere = mkdtempSync(join(tmpdir(), 'skein-nats-workers-'))));
  after(() => rmSync(elsewhere, { recursive: true, force: true }));

  /** `skein scheduler --nats` and two `skein worker --nats` (in another folder), running `body` with a client; all stopped after. */
  /** `url`: one for all, or each process's own (the servers of a NATS cluster in another order: each belongs to its first). */
  async function withCluster(url: string | { scheduler: string; w1: string; w2: string; client: string }, extraEnv: Record<string, string>, body: (client: Client, procs: { scheduler: ChildProcess; workers: ChildProcess[]; said: () => string }) => Promise<void>): Promise<void> {
    const urls = typeof url === 'string' ? { scheduler: url, w1: url, w2: url, client: url } : url;
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--nats', urls.scheduler, '--no-dashboard'], { cwd: root, env: env(extraEnv), stdio: ['ignore', 'ignore', 'pipe'] });
    const schedulerSaid = stderrOf(scheduler);
    const workers: ChildProcess[] = [];
    const said: Array<() => string> = [schedulerSaid.text];
    try {
      await schedulerSaid.line(/skein scheduler at /);
      for (const name of ['w1', 'w2']) {
        const w = spawn(process.execPath, [bin, 'worker', '--nats', urls[name as 'w1' | 'w2'], '--nthreads', '1', '--name', name], { cwd: elsewhere, env: env(extraEnv), stdio: ['ignore', 'ignore', 'pipe'] });
        workers.push(w);
        const out = stderrOf(w);
        said.push(out.text);
        await out.line(new RegExp(`skein worker ${name} \\(pid \\d+\\) joined nats://`));
      }
      const client = new Client({ address: urls.client, setAsDefault: false });
      try {
        await until('both workers in the scheduler', async () => (Object.keys((await client.schedulerInfo()).workers).length === 2 ? true : undefined));
        await body(client, { scheduler, workers, said: () => said.map((f) => f()).join('') });
      } finally {
        await client.close();
      }
    } finally {
      for (const w of workers) w.kill('SIGINT');
      scheduler.kill('SIGINT');
    }
    for (const w of workers) assert.equal(await exited(w), 0);
    assert.equal(await exited(scheduler), 0);
  }

  it('runs tasks on workers that joined through NATS from another folder, and moves a 3 MB result between them', async () => {
    const nats = await startNatsServer();
    try {
      await withCluster(nats.url, {}, async (client, { said }) => {
        assert.match(said(), new RegExp(`skein scheduler at nats://127\\.0\\.0\\.1:${nats.port}\\n {2}through NATS`));
        assert.deepEqual(await client.gather(client.map(inc, [1, 2, 3, 4, 5, 6])), [2, 3, 4, 5, 6, 7]);
        const info = await client.schedulerInfo();
        const byName = Object.fromEntries(Object.entries(info.workers).map(([address, w]) => [w.name, address]));
        assert.deepEqual(Object.keys(byName).sort(), ['w1', 'w2']);
        assert.match(byName.w1!, new RegExp(`^nats://127\\.0\\.0\\.1:${nats.port}/skein/worker/w1/\\d+$`));
        // made on w1, summed on w2: the value travels between the workers, in chunks
        const big = client.options({ workers: 'w1', key: 'ones-big' }).submit(ones, 400_000);
        const summed = client.options({ workers: 'w2', key: 'total-big' }).submit(total, big);
        assert.equal(await summed.result(), 400_000);
        assert.deepEqual((await client.whoHas(['ones-big', 'total-big']))['total-big'], [byName.w2]);
      });
      assert.deepEqual(processesWith(elsewhere), []);
    } finally {
      await nats.stop();
    }
  });

  it('with a token: joins with it, never prints it; a client without it is refused, saying so', async () => {
    const nats = await startNatsServer({ token: 'tok3n-s3cret' });
    try {
      await withCluster(nats.url, {}, async (client, { said }) => {
        assert.equal(await client.submit(sum, 1, 2, 3), 6);
        assert.ok(!said().includes('tok3n-s3cret'), said());
        assert.match(said(), new RegExp(`joined nats://127\\.0\\.0\\.1:${nats.port}\\n`));
      });
      const stranger = new Client({ address: `nats://127.0.0.1:${nats.port}`, setAsDefault: false });
      await assert.rejects(stranger.ready, (error: Error) => {
        assert.match(error.message, new RegExp(`^Cannot reach NATS at nats://127\\.0\\.0\\.1:${nats.port}: .*Is nats-server running there, and are the credentials right\\?$`));
        assert.ok(!error.message.includes('tok3n'));
        return true;
      });
      await stranger.close();
    } finally {
      await nats.stop();
    }
  });

  it('keeps each worker\'s key in a liveness bucket; a worker killed is gone when its key expires, before its connection\'s silence says so', async () => {
    const nats = await startNatsServer();
    try {
      // keys live 3 s after their last put, connections 6 s after their last word
      await withCluster(nats.url, { SKEIN_NATS__LIVENESS_MS: '6000' }, async (client) => {
        const info = await client.schedulerInfo();
        const w1 = Object.entries(info.workers).find(([, w]) => w.name === 'w1')!;
        const nc = await connect({ servers: nats.url });
        try {
          const kv = await new Kvm(nc).open('skein_skein_workers');
          const keys: string[] = [];
          for await (const k of await kv.keys()) keys.push(k);
          assert.deepEqual(keys.filter((k) => k !== 'scheduler').sort(), Object.values(info.workers).map((w) => `${w.name}.${w.pid}`).sort());
          assert.ok(keys.includes('scheduler'), 'the scheduler\'s own key, its measure of the bucket\'s health');
          const entry = (await kv.get(`w1.${w1[1].pid}`))!.json<{ name: string; address: string; nthreads: number }>();
          assert.deepEqual({ name: entry.name, address: entry.address, nthreads: entry.nthreads }, { name: 'w1', address: w1[0], nthreads: 1 });
        } finally {
          await nc.close();
        }
        const long = client.options({ workers: 'w1', key: 'long-on-w1' }).submit(sleep, 60_000);
        await until('the long task running on w1', async () => ((await client.story('long-on-w1')).some((e) => e.to === 'processing') ? true : undefined));
        process.kill(w1[1].pid, 'SIGKILL');
        const removal = await until('the long task taken back from w1', async () => (await client.story('long-on-w1')).find((e) => e.from === 'processing'), 20_000);
        assert.match(removal.stimulus, /^remove-worker-expired-\d+$/);
        await client.cancel([long]);
      });
    } finally {
      await nats.stop();
    }
  });

  it('a worker killed in the middle of a run: the run completes, its tasks run again elsewhere', async () => {
    const nats = await startNatsServer();
    try {
      await withCluster(nats.url, { SKEIN_NATS__LIVENESS_MS: '1000' }, async (client) => {
        const info = await client.schedulerInfo();
        const w1 = Object.values(info.workers).find((w) => w.name === 'w1')!;
        const futures = client.map(sleep, [300, 301, 302, 303, 304, 305, 306, 307]);
        await futures[0]!.result();
        const killedAt = Date.now();
        process.kill(w1.pid, 'SIGKILL');
        assert.deepEqual(await client.gather(futures), [300, 301, 302, 303, 304, 305, 306, 307]);
        const after = Date.now() - killedAt;
        assert.ok(after < 20_000, `the run completed ${after} ms after the kill`);
      });
    } finally {
      await nats.stop();
    }
  });

  it('ready tasks beyond the workers\' room wait in the shared work queue; a worker killed running one: JetStream delivers it to the other, where it runs again, counted among its deaths', async () => {
    const nats = await startNatsServer();
    try {
      // connections and keys outlive the test: JetStream's redelivery, not the liveness, finds the death
      await withCluster(nats.url, { SKEIN_NATS__LIVENESS_MS: '60000' }, async (client, { said }) => {
        const pids = Object.fromEntries(Object.values((await client.schedulerInfo()).workers).map((w) => [w.name, w.pid]));
        // the group measured first: then two naps fill a worker, and the rest wait in the queue
        await client.options({ key: 'nap-warm' }).submit(napPid, 100).result();
        const naps = Array.from({ length: 8 }, (_, i) => client.options({ key: `nap-${i}` }).submit(napPid, 1500));
        const stories = async () => Object.fromEntries(await Promise.all(naps.map(async (f) => [f.key, await client.story(f.key)] as const)));
        const claimed = await until('a nap claimed from the queue', async () => {
          for (const [key, story] of Object.entries(await stories())) {
            const grant = story.find((e) => e.from === 'queued' && e.to === 'processing' && /^claim-\d+$/.test(e.stimulus));
            if (grant !== undefined) return { key, worker: grant.worker! };
          }
          return undefined;
        }, 20_000);
        const direct = Object.values(await stories()).filter((story) => story.some((e) => e.from === 'waiting' && e.to === 'processing')).length;
        assert.equal(direct, 4, 'two naps sent to each worker, the other four queued');
        const killedAt = Date.now();
        process.kill(pids[claimed.worker]!, 'SIGKILL');
        const rerun = await until(`${claimed.key} run again`, async () => (await client.story(claimed.key)).find((e) => e.from === 'processing' && e.to === 'processing'), 20_000);
        const after = Date.now() - killedAt;
        process.stdout.write(`# ${claimed.key}: running on ${claimed.worker} when it was killed, taken by ${rerun.worker} ${after} ms later (JetStream's ack wait: 2 s)\n`);
        assert.match(rerun.stimulus, /^claim-\d+$/);
        assert.ok(after < 10_000, `taken again after ${after} ms`);
        // by the other worker, or by the killed one started again by its supervisor (a new process, same name)
        const ranBy = await naps.find((f) => f.key === claimed.key)!.result();
        assert.notEqual(ranBy, pids[claimed.worker]);
        const now = Object.values((await client.schedulerInfo()).workers).find((w) => w.pid === ranBy);
        assert.equal(now?.name, rerun.worker);
        assert.doesNotMatch(said(), /bug in Skein/);
        await client.cancel(naps);
      });
    } finally {
      await nats.stop();
    }
  });

  // Beyond the first few per worker, the tasks wait in the shared work queue (3,000 of a millisecond
  // on two threads): the stall covers the queue's stream, the connections' and the liveness
  // bucket's. On failure it says what every process said (SKEIN_NATS_DEBUG=1 adds the consumers'
  // status and the retries).
  it('a NATS cluster of three losing the server that leads the stream, during 3,000 tasks: every result, none computed twice, the stall measured', async () => {
    const cluster = await startNatsCluster(3);
    const [s1, s2, s3] = cluster.servers.map((s) => `nats://127.0.0.1:${s.port}`);
    // each process belongs to its first server, the others its fallbacks
    const urls = { scheduler: [s1, s2, s3].join(','), w1: [s2, s3, s1].join(','), w2: [s3, s1, s2].join(','), client: [s1, s3, s2].join(',') };
    try {
      // a frame is published again for nats.livenessMs before its connection is given up: longer than an election
      await withCluster(urls, { SKEIN_NATS__REPLICAS: '3', SKEIN_NATS__LIVENESS_MS: '30000', SKEIN_NATS_DEBUG: process.env.SKEIN_NATS_DEBUG ?? '' }, async (client, { said }) => {
        const nc = await connect({ servers: [s1!, s2!, s3!] });
        let leader: string;
        try {
          const jsm = await jetstreamManager(nc);
          const info = await jsm.streams.info('SKEIN_skein');
          assert.equal(info.config.num_replicas, 3);
          leader = info.cluster!.leader!;
        } finally {
          await nc.close();
        }
        const n = 3000;
        const started = Date.now();
        const futures = client.map(slowInc, Array.from({ length: n }, (_, i) => i));
        const finished = () => futures.filter((f) => f.status === 'finished').length;
        await until('a tenth of the tasks finished', () => (finished() >= n / 10 ? true : undefined), 60_000);
        const done = finished();
        const killed = cluster.servers.find((s) => s.name === leader)!;
        const killedAt = Date.now();
        killed.process.kill('SIGKILL');
        await until('every task finished, as the client knows', () => (finished() === n ? true : undefined), 120_000);
        if (process.env.SKEIN_NATS_DEBUG === '1') process.stdout.write(`killed at ${killedAt}\n${said().replace(/^/gm, '# ')}\n`);
        const finishedAt = Date.now();
        const results = await client.gather(futures);
        const gatheredAt = Date.now();
        assert.deepEqual(results, Array.from({ length: n }, (_, i) => i + 1));
        const stream = await client.getTaskStream();
        const runs = new Map<string, number>();
        for (const e of stream) runs.set(e.key, (runs.get(e.key) ?? 0) + 1);
        assert.equal(runs.size, n);
        const twice = [...runs].filter(([, c]) => c !== 1).map(([k]) => k);
        assert.deepEqual(twice, [], `no task ran twice; ${twice.length} did, the first ${JSON.stringify(stream.filter((e) => e.key === twice[0]))}, killed at ${killedAt}; the processes said:\n${said()}`);
        // the stall: the longest time no task finished (the workers' stamps, on the scheduler's clock)
        const ends = stream.map((e) => e.end).sort((a, b) => a - b);
        let stall = 0;
        for (let i = 1; i < ends.length; i++) stall = Math.max(stall, ends[i]! - ends[i - 1]!);
        process.stdout.write(`# killed ${leader} (the stream's leader) ${killedAt - started} ms in, ${done} of ${n} results at the client; longest stall ${Math.round(stall)} ms; the rest at the client ${finishedAt - killedAt} ms after the kill, all gathered ${gatheredAt - finishedAt} ms later\n`);
      });
    } finally {
      await cluster.stop();
    }
  });
});

describe('clocks of workers on other machines', () => {
  it('a worker whose clock is 30 s ahead and one 20 s behind (faketime): offsets estimated, task streams on the scheduler\'s clock', async () => {
    const nats = await startNatsServer();
    const elsewhere = mkdtempSync(join(tmpdir(), 'skein-nats-clocks-'));
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--nats', nats.url, '--no-dashboard'], { cwd: root, env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    const workers: ChildProcess[] = [];
    try {
      await stderrOf(scheduler).line(/skein scheduler at /);
      for (const [name, skew] of [['ahead', '+30s'], ['behind', '-20s']] as const) {
        // faketime runs the worker as its child and does not pass signals on: a process group of their own, signalled whole
        const w = spawn('faketime', ['-f', skew, process.execPath, bin, 'worker', '--nats', nats.url, '--nthreads', '1', '--name', name], { cwd: elsewhere, env: env(), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        workers.push(w);
        await stderrOf(w).line(/joined/);
      }
      const client = new Client({ address: nats.url, setAsDefault: false });
      try {
        await until('both workers in the scheduler', async () => (Object.keys((await client.schedulerInfo()).workers).length === 2 ? true : undefined));
        // this process's clock is the scheduler's (one machine): 30 s ahead is -30 s to it, 20 s behind +20 s (heartbeats report them)
        const near = (offsets: Record<string, number>): boolean => Math.abs(offsets.ahead! + 30_000) < 1000 && Math.abs(offsets.behind! - 20_000) < 1000;
        await until('the offsets in schedulerInfo', async () => {
          const offsets = Object.fromEntries(Object.values((await client.schedulerInfo()).workers).map((w) => [w.name, w.clockOffset]));
          return near(offsets) ? offsets : undefined;
        });
        const before = Date.now();
        await client.gather([client.options({ workers: 'ahead', key: 'nap-ahead' }).submit(sleep, 50), client.options({ workers: 'behind', key: 'nap-behind' }).submit(sleep, 50)]);
        const after = Date.now();
        const stream = await client.getTaskStream({ start: before - 1 });
        for (const key of ['nap-ahead', 'nap-behind']) {
          const e = stream.find((x) => x.key === key)!;
          assert.ok(e.start >= before - 1000 && e.end <= after + 1000 && e.end - e.start >= 40, `${key}: ${e.start - before} to ${e.end - before} ms from the submit, which returned at ${after - before}`);
        }
      } finally {
        await client.close();
      }
    } finally {
      for (const w of workers) process.kill(-w.pid!, 'SIGINT');
      scheduler.kill('SIGINT');
      await Promise.all([...workers, scheduler].map(exited));
      await until('no worker of this test left', () => (processesWith(`--nats ${nats.url}`).length === 0 ? true : undefined));
      rmSync(elsewhere, { recursive: true, force: true });
      await nats.stop();
    }
  });
});

describe('a scheduler restarted through NATS', () => {
  it('SIGKILLed with workers up and started again: it takes up the journal, workers keep their results, the client\'s futures complete', async () => {
    const nats = await startNatsServer();
    // workers and the client hear the new scheduler's announcement, long before their liveness (5 s) would say the old one is gone
    const liveness = config.set({ 'nats.livenessMs': 5000 });
    const extra = { SKEIN_NATS__LIVENESS_MS: '5000' };
    const elsewhere = mkdtempSync(join(tmpdir(), 'skein-nats-restart-'));
    const workers: ChildProcess[] = [];
    const schedulers: ChildProcess[] = [];
    const startScheduler = async (): Promise<() => string> => {
      const s = spawn(process.execPath, [bin, 'scheduler', '--nats', nats.url, '--no-dashboard'], { cwd: root, env: env(extra), stdio: ['ignore', 'ignore', 'pipe'] });
      schedulers.push(s);
      const said = stderrOf(s);
      await said.line(/skein scheduler at /);
      return said.text;
    };
    const workersSaid: Array<() => string> = [];
    try {
      await startScheduler();
      for (const name of ['w1', 'w2']) {
        const w = spawn(process.execPath, [bin, 'worker', '--nats', nats.url, '--nthreads', '1', '--name', name], { cwd: elsewhere, env: env(extra), stdio: ['ignore', 'ignore', 'pipe'] });
        workers.push(w);
        const said = stderrOf(w);
        workersSaid.push(said.text);
        await said.line(/joined/);
      }
      const client = new Client({ address: nats.url, setAsDefault: false });
      try {
        const pids = Object.values((await client.schedulerInfo()).workers).map((w) => w.pid).sort();
        const done = client.options({ key: 'done-1' }).submit(inc, 1);
        assert.equal(await done.result(), 2);
        const long = client.options({ key: 'long-1' }).submit(napPid, 3000);
        await until('the long task running', async () => ((await client.story('long-1')).some((e) => e.to === 'processing') ? true : undefined));
        schedulers[0]!.kill('SIGKILL');
        await exited(schedulers[0]!);
        const restartedAt = Date.now();
        const said = await startScheduler();
        // the future that was running completes, run again by the new scheduler on a worker that kept its results
        const ranBy = await long.result();
        const waited = Date.now() - restartedAt;
        assert.ok(pids.includes(ranBy as number), `ran by ${ranBy}, not one of the workers that were up (${pids.join(', ')})`);
        // the result computed before the kill is still where it was, and not computed again
        assert.equal(await done.result(), 2);
        assert.deepEqual((await client.story('done-1')).map((e) => `${e.from}>${e.to} ${e.stimulus.replace(/-\d+$/, '')}`), ['released>memory restore-held']);
        assert.deepEqual(Object.values((await client.schedulerInfo()).workers).map((w) => w.pid).sort(), pids, 'the same two worker processes');
        assert.match(said(), /took up the journal of the scheduler before this one: 2 graphs, 1 result kept by 1 worker, 1 task to compute, 1 client to join again/);
        for (const text of workersSaid) assert.match(text(), /another scheduler started at the address; keeping \d+ results? for the next one[^]*joined the scheduler again/);
        // and it goes on as before
        assert.equal(await client.submit(inc, done), 3);
        process.stdout.write(`# the running future completed ${waited} ms after the new scheduler started (its task, 3 s, run again)\n`);
      } finally {
        await client.close();
      }
    } finally {
      liveness.dispose();
      for (const c of [...workers, ...schedulers]) c.kill('SIGINT');
      await Promise.all([...workers, ...schedulers].map(exited));
      rmSync(elsewhere, { recursive: true, force: true });
      await nats.stop();
    }
  });
});

describe('code shipped through NATS to workers that cannot see the project', { skip: process.getuid?.() !== 0 ? 'hiding the project from the workers needs a mount namespace (unshare --mount), which needs root' : false }, () => {
  // made when the suite runs (not when the file loads: a filtered run would leave them)
  let project = '';
  let elsewhere = '';
  after(() => {
    if (project !== '') rmSync(project, { recursive: true, force: true });
    if (elsewhere !== '') rmSync(elsewhere, { recursive: true, force: true });
  });
  before(() => {
    project = mkdtempSync(join(tmpdir(), 'skein-shipped-project-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'skein-shipped-workers-'));
    // a project of the user's: skein and yaml installed in it
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'skein'), 'dir');
    symlinkSync(join(root, 'node_modules', 'yaml'), join(project, 'node_modules', 'yaml'), 'dir');
    writeFileSync(join(project, 'helper.ts'), 'export const half = (x: number): number => x / 2;\n');
    writeFileSync(
      join(project, 'tasks.ts'),
      [
        "import { createHash } from 'node:crypto';",
        "import { delayed } from 'skein';",
        "import { half } from './helper.js';",
        'export const quarter = (x: number): number => half(half(x));',
        "export const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8) + ':' + typeof delayed;",
        'export const whereAmI = (): string => import.meta.url;',
        'export function explode(why: string): never {',
        '  throw new RangeError(why);',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(project, 'needsYaml.ts'), "import { stringify } from 'yaml';\nexport const asYaml = (v: unknown): string => stringify(v);\n");
  });

  it('bundles the modules of the tasks into the object store; each worker runs its copy, packages found where it runs, errors at the user\'s lines', async () => {
    const nats = await startNatsServer();
    const workers: ChildProcess[] = [];
    const scheduler = spawn(process.execPath, [bin, 'scheduler', '--nats', nats.url, '--no-dashboard'], { cwd: root, env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await stderrOf(scheduler).line(/skein scheduler at /);
      for (const name of ['w1', 'w2']) {
        // the project's folder, hidden under an empty one in the worker's own mount namespace
        const w = spawn('unshare', ['--mount', 'sh', '-c', `mount -t tmpfs none "${project}" && exec "${process.execPath}" "${bin}" worker --nats ${nats.url} --nthreads 1 --name ${name}`], { cwd: elsewhere, env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
        workers.push(w);
        await stderrOf(w).line(new RegExp(`skein worker ${name} \\(pid \\d+\\) joined`));
      }
      const tasks = (await import(pathToFileURL(join(project, 'tasks.ts')).href)) as typeof import('../data/shippedTypes.js');
      const client = new Client({ address: nats.url, setAsDefault: false });
      try {
        await until('both workers in the scheduler', async () => (Object.keys((await client.schedulerInfo()).workers).length === 2 ? true : undefined));
        assert.deepEqual(await client.gather(client.map(tasks.quarter, [4, 8, 12, 16])), [1, 2, 3, 4]);
        assert.equal(await client.submit(tasks.digest, 'skein'), `${createHash('sha256').update('skein').digest('hex').slice(0, 8)}:function`);
        // the copy each worker made, in its own folder
        const where = (await client.gather([client.options({ workers: 'w1', pure: false }).submit(tasks.whereAmI), client.options({ workers: 'w2', pure: false }).submit(tasks.whereAmI)])) as string[];
        for (const [i, url] of where.entries()) assert.match(url, new RegExp(`^file:///tmp/skein-worker-w${i + 1}-\\d+/shipped/[0-9a-f]{32}/tasks\\.mjs$`));
        // a failure points at the user's line, through the bundle's source map
        const failed = client.submit(tasks.explode, 'no such region');
        await assert.rejects(failed.result(), (error: Error) => {
          const cause = error.cause as Error;
          assert.equal(cause.name, 'RangeError');
          assert.equal(cause.message, 'no such region');
          assert.match(cause.stack ?? '', new RegExp(`${project.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tasks\\.ts:8:`));
          return true;
        });
        // a package the workers do not have where they run: said before any task starts
        const yaml = (await import(pathToFileURL(join(project, 'needsYaml.ts')).href)) as { asYaml: (v: unknown) => string };
        await assert.rejects(client.submit(yaml.asYaml, { a: 1 }).result(), (error: Error) => {
          assert.match(error.message, new RegExp(`needsYaml\\.ts imports "yaml", which this worker cannot load from ${elsewhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: install it there \\(npm install yaml\\), or start the worker in a folder that has it\\.`));
          return true;
        });
      } finally {
        await client.close();
      }
    } finally {
      for (const w of workers) w.kill('SIGINT');
      scheduler.kill('SIGINT');
      await Promise.all([...workers, scheduler].map(exited));
      await nats.stop();
    }
  });
});
