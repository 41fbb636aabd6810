// The distributed scheduler's transports (in-process, TCP, Unix socket) and the scheduler
// server's handling of a stimulus that fails.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Comm, inprocTransport, socketTransport } from '../../runtime/distributed/comm.js';
import type { ToClient, ToScheduler, ToWorker } from '../../runtime/distributed/protocol.js';
import { Scheduler } from '../../runtime/distributed/scheduler.js';

/** Collects what arrives on `comm` until `n` messages came. */
function receive<T>(comm: Comm<T, unknown>, n: number): Promise<T[]> {
  const got: T[] = [];
  return new Promise((resolve) => comm.onMessage((m) => (got.push(m), got.length === n && resolve(got))));
}

describe('distributed comms', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-comm-'));
  const cases = [
    ['in-process', inprocTransport, 'inproc://'],
    ['TCP', socketTransport('s3cret'), 'tcp://127.0.0.1:0'],
    ['Unix socket', socketTransport('s3cret'), `unix://${join(dir, 'scheduler.sock')}`],
  ] as const;
  for (const [name, transport, address] of cases) {
    it(`${name}: messages arrive in order both ways, Buffers and Maps intact`, async () => {
      let server: Comm<unknown, unknown> | undefined;
      const serverGot: unknown[] = [];
      const listener = await transport.listen<unknown, unknown>(address, (comm) => {
        server = comm;
        comm.onMessage((m) => {
          serverGot.push(m);
          comm.send({ echo: m });
        });
      });
      try {
        const client = await transport.connect<unknown, unknown>(listener.address);
        const replies = receive(client, 3);
        client.send(1);
        client.send({ b: Buffer.from('hi'), m: new Map([['k', 2]]) });
        client.send('three');
        const got = (await replies) as Array<{ echo: unknown }>;
        assert.equal(got[0]!.echo, 1);
        const second = got[1]!.echo as { b: Buffer; m: Map<string, number> };
        assert.equal(Buffer.from(second.b).toString(), 'hi');
        assert.equal(second.m.get('k'), 2);
        assert.equal(got[2]!.echo, 'three');
        assert.equal(serverGot.length, 3);
        const closed = new Promise<void>((resolve) => server!.onClose(() => resolve()));
        client.close();
        await closed;
      } finally {
        await listener.close();
      }
    });
  }

  it('drops a socket connection that does not open with the secret, before any message', async () => {
    const delivered: unknown[] = [];
    const listener = await socketTransport('right').listen<unknown, unknown>('tcp://127.0.0.1:0', (comm) => comm.onMessage((m) => delivered.push(m)));
    try {
      const stranger = await socketTransport('wrong').connect<unknown, unknown>(listener.address);
      const closed = new Promise<void>((resolve) => stranger.onClose(() => resolve()));
      stranger.send({ op: 'register-client', client: 'x' });
      await closed;
      assert.deepEqual(delivered, []);
    } finally {
      await listener.close();
    }
  });

  it('a malformed graph is refused, the client that sent it hears why for each key it wanted, and the scheduler goes on', async () => {
    const scheduler = new Scheduler({ listen: 'inproc://', transport: inprocTransport, validate: true });
    await scheduler.start();
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const comm = await inprocTransport.connect<ToClient, ToScheduler>(scheduler.address);
      const got = receive(comm, 2);
      comm.send({ op: 'register-client', client: 'c' });
      // a graph whose task list is not a list: a message only a bug would send
      comm.send({ op: 'update-graph', client: 'c', tasks: null as unknown as [], wanted: ['x'], events: false, values: false });
      const [welcome, reply] = await got;
      assert.deepEqual(welcome, { op: 'welcome', instance: scheduler.instance, journal: false, known: [] });
      assert.deepEqual(reply, { op: 'task-erred', key: 'x', root: 'x', error: { name: 'SkeinError', message: 'The scheduler refused this graph: update-graph: tasks must be a list of task specs ({ key, task, fns, deps, priority }); got null', props: { code: 'REQUEST_REFUSED' } } });
      assert.equal(written.join(''), '', 'a refused request is not a bug in Skein: nothing on stderr');
      // still serving: a good graph is taken (it waits for a worker, as there is none)
      comm.send({ op: 'update-graph', client: 'c', tasks: [{ key: 'y', task: 1, fns: [], deps: [], priority: 0 }], wanted: ['y'], events: false, values: false });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(scheduler.state.tasks.get('y')?.state, 'no-worker');
      comm.close();
    } finally {
      process.stderr.write = write;
      await scheduler.close();
    }
  });

  it('refuses a worker on another major version of Node.js, saying which to start it with', async () => {
    const scheduler = new Scheduler({ listen: 'inproc://', transport: inprocTransport, validate: true });
    await scheduler.start();
    try {
      const major = process.versions.node.split('.')[0];
      const comm = await inprocTransport.connect<ToWorker, ToScheduler>(scheduler.address);
      const got = receive(comm, 1);
      const closed = new Promise<void>((resolve) => comm.onClose(() => resolve()));
      comm.send({ op: 'register-worker', name: 'old-node', dataAddress: 'inproc://old-node', nthreads: 1, pid: 1, memoryLimit: null, clock: Date.now(), node: '18.20.4' });
      assert.deepEqual(await got, [
        {
          op: 'refused',
          reason: `worker old-node runs Node.js 18.20.4 and the scheduler ${process.versions.node}: a cluster runs one major version (values travel in V8's serialization, code is shipped bundled for it). Start the worker with Node.js ${major}.`,
        },
      ]);
      await closed;
      assert.equal(scheduler.state.workers.size, 0);
    } finally {
      await scheduler.close();
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
