// dask/distributed's own tests, ported: each test is named after the Dask test it follows
// (distributed/tests/test_client.py, test_priorities.py, test_worker.py, test_scheduler.py,
// deploy/tests/test_local.py), and runs on worker processes and on in-process workers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TaskError, delayed, persist } from 'skein';
import { Client, type Comm, type Future, LocalCluster, Scheduler, Worker, inprocTransport, socketTransport } from 'skein/distributed';
import { add, failWithCause, inc, pack, sleep, sleepAfter } from '../data/ops.js';
import { until } from '../until.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a script of test/data/scripts with node; its exit code, stdout and stderr. */
function script(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`test/data/scripts/${name}`, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const processes of [true, false]) {
  describe(`dask/distributed's tests (processes: ${processes})`, () => {
    let client: Client;
    let cluster: LocalCluster;
    before(async () => {
      client = new Client({ processes, nWorkers: 2, threadsPerWorker: 1, validate: true, dashboardAddress: null, setAsDefault: false });
      await client.ready;
      cluster = client.cluster as LocalCluster;
    });
    after(async () => {
      await client.close();
    });

    /** A worker of this test's own in this process, joined to the cluster (Dask's `a` of gen_cluster). */
    async function extraWorker(name: string): Promise<Worker> {
      const w = new Worker({ scheduler: cluster.schedulerAddress, name, nthreads: 1, listen: processes ? 'tcp://127.0.0.1:0' : 'inproc://', transport: processes ? socketTransport(cluster.secret) : inprocTransport });
      await w.start();
      await until(`${name} to join`, () => ([...cluster.scheduler.state.workers.values()].some((ws) => ws.name === name) ? true : undefined));
      return w;
    }

    it('test_lose_scattered_data: scattered data whose only holder leaves is lost, never a value; what needs it fails saying so', async () => {
      const doomed = await extraWorker('doomed');
      const [x] = await client.scatter([1], { workers: 'doomed' });
      assert.equal(await x, 1);
      await doomed.close();
      await until('x to be lost', () => (x!.status === 'lost' ? true : undefined));
      const message = `The scattered data ${JSON.stringify(x!.key)} was lost: doomed, the only worker holding it, is gone, and scattered data has no task to compute it again. Scatter it again (scatter(data, { broadcast: true }) keeps a copy on every worker), or make it with submit so that it can be recomputed.`;
      await assert.rejects(x!.result(), { code: 'SCATTERED_DATA_LOST', message });
      assert.equal(((await x!.exception()) as Error).message, message);
      // test_scatter_compute_lose: a task on lost data fails; it never computes with a made-up value
      const y = client.submit(inc, x);
      const error = (await y.result().catch((e: unknown) => e)) as TaskError;
      assert.ok(error instanceof TaskError, String(error));
      assert.equal(error.key, x!.key);
      assert.equal((error.cause as Error).message, message);
      assert.deepEqual((await client.story(x!)).map((e) => `${e.from}→${e.to}`), ['released→memory', 'memory→erred']);
    });

    it('test_partially_lose_scattered_data: scattered to every worker, it survives one of them leaving', async () => {
      const doomed = await extraWorker('doomed-2');
      const [x] = await client.scatter([10], { broadcast: true });
      assert.equal((await client.whoHas(x))[x!.key]!.length, 3);
      await doomed.close();
      await until('doomed-2 to leave', () => ([...cluster.scheduler.state.workers.values()].some((ws) => ws.name === 'doomed-2') ? undefined : true));
      assert.equal(x!.status, 'finished');
      assert.equal(await client.submit(inc, x), 11);
    });

    it('test_retry_dependencies: retrying futures that finished leaves them as they are (nothing runs again)', async () => {
      const x = client.options({ key: 'retry-done' }).submit(inc, 100);
      assert.equal(await x, 101);
      await client.retry([x]);
      assert.equal(x.status, 'finished');
      assert.equal(await x, 101);
      assert.deepEqual((await client.story(x)).map((e) => `${e.from}→${e.to}`), ['released→waiting', 'waiting→processing', 'processing→memory']);
      await assert.rejects(client.retry(['retry-done' as unknown as Future]), { name: 'TypeError', message: 'retry() takes futures; got string "retry-done".' });
    });

    it('test_cancel: cancelling a future cancels its dependents; nothing is computed again', async () => {
      const x = client.options({ key: 'cancel-x' }).submit(sleep, 400);
      const y = client.options({ key: 'cancel-y' }).submit(sleepAfter, 10, x);
      await until('x running', () => (cluster.scheduler.state.tasks.get('cancel-x')?.state === 'processing' ? true : undefined));
      await client.cancel([x]);
      assert.equal(x.status, 'cancelled');
      await until('y cancelled', () => (y.status === 'cancelled' ? true : undefined));
      await assert.rejects(y.result(), { code: 'CANCELLED' });
      await until('both forgotten', () => (cluster.scheduler.state.tasks.has('cancel-x') || cluster.scheduler.state.tasks.has('cancel-y') ? undefined : true));
      assert.equal(cluster.scheduler.state.story('cancel-x').filter((e) => e.to === 'processing').length, 1, 'x ran once and was not computed again');
      assert.equal(cluster.scheduler.state.story('cancel-y').filter((e) => e.to === 'processing').length, 0, 'y never ran');
    });

    it('test_cancel_before_known_to_scheduler: a future cancelled before the scheduler saw it is cancelled at once, and so is its dependent', async () => {
      const f = client.options({ pure: false }).submit(inc, 1);
      const f2 = client.submit(inc, f);
      await client.cancel([f]);
      assert.equal(f.status, 'cancelled');
      await assert.rejects(f2.result(), { code: 'CANCELLED' });
      assert.equal(f2.status, 'cancelled');
    });

    it('test_submit_on_cancelled_future: a task on a cancelled future is cancelled', async () => {
      const x = client.options({ pure: false }).submit(sleep, 200);
      await client.cancel([x]);
      const y = client.submit(inc, x);
      assert.equal(y.status, 'cancelled');
      await assert.rejects(y.result(), { code: 'CANCELLED' });
    });

    it('test_cancel_resubmit: a pure key cancelled, or computed before restart(), is computed again when submitted again (the old future alive)', async () => {
      const x = client.submit(inc, 41);
      assert.equal(await x, 42);
      await client.cancel([x]);
      assert.equal(x.status, 'cancelled');
      const again = client.submit(inc, 41);
      assert.equal(again.key, x.key);
      assert.equal(await again, 42);
      // test_restart_sync
      const a = client.submit(inc, 5);
      assert.equal(await a, 6);
      await client.restart();
      assert.equal(a.status, 'cancelled');
      await assert.rejects(a.result(), { code: 'CANCELLED' });
      assert.deepEqual(await client.whoHas(), {});
      const b = client.submit(inc, 5);
      assert.equal(b.key, a.key);
      assert.equal(await b, 6);
      assert.equal(x.status, 'cancelled', 'the old future stays cancelled');
    });

    it('test_cancel_multi_client: one client cancelling a key leaves it to another that wants it', async () => {
      const other = new Client(cluster);
      try {
        const x = client.options({ key: 'shared-slow' }).submit(sleep, 300);
        const y = other.options({ key: 'shared-slow' }).submit(sleep, 300);
        await until('the task running', () => (cluster.scheduler.state.tasks.get('shared-slow')?.state === 'processing' ? true : undefined));
        await client.cancel([x]);
        assert.equal(x.status, 'cancelled');
        assert.equal(await y, 300);
        assert.equal(y.status, 'finished');
        await assert.rejects(x.result(), { code: 'CANCELLED' });
      } finally {
        await other.close();
      }
    });

    it('test_map: several iterables, zipped to the shortest; defaults stay defaults (no options taken as data)', async () => {
      assert.deepEqual(await client.gather(client.map(add, [1, 2, 3], [10, 20, 30, 40])), [11, 22, 33]);
      assert.deepEqual(await client.gather(client.map((x: number, y = 10) => x + y, [1, 2])), [11, 12]);
      const xs = client.map(inc, [1, 2, 3]);
      assert.deepEqual(await client.gather(client.map(add, xs, xs)), [4, 6, 8]);
      assert.throws(() => client.map(inc, 5 as unknown as number[]), { name: 'TypeError', message: 'map(): argument 2 is not iterable (got number 5); pass arrays or other iterables of arguments. Options go through client.options({...}).map(...).' });
    });

    it('test_map_keynames: a key prefix per element, or one key per element', async () => {
      const prefixed = client.options({ key: 'INC' }).map(inc, [1, 2, 3]);
      assert.ok(prefixed.every((f) => f.key.startsWith('INC-')));
      assert.equal(new Set(prefixed.map((f) => f.key)).size, 3);
      const named = client.options({ key: ['inc-a', 'inc-b'] }).map(inc, [1, 2]);
      assert.deepEqual(named.map((f) => f.key), ['inc-a', 'inc-b']);
      assert.deepEqual(await client.gather(named), [2, 3]);
      assert.throws(() => client.options({ key: ['only-one'] }).map(inc, [1, 2]), { name: 'RangeError', message: 'map(): 1 keys given for 2 elements; give one key per element, or a prefix.' });
    });

    it('submit takes every argument as data, and options only through client.options(), where an unknown name is refused', async () => {
      assert.deepEqual(await client.submit(pack, { priority: 5 }), { priority: 5 });
      assert.deepEqual(await client.submit(pack, { key: 'job-7', retries: 2 }), { key: 'job-7', retries: 2 });
      assert.throws(() => client.options({ priorty: 1 } as never), { name: 'TypeError', message: 'client.options(): unknown option "priorty" (did you mean "priority"?). Options are key, pure, priority, retries, workers.' });
      assert.throws(() => client.options({ retry: 1 } as never), { name: 'TypeError', message: 'client.options(): unknown option "retry" (did you mean "retries"?). Options are key, pure, priority, retries, workers.' });
      assert.throws(() => client.options({ retries: -1 }), { name: 'TypeError', message: 'client.options(): retries must be a whole number >= 0; got number -1.' });
      const f = client.options({ key: 'job-8', workers: ['worker-1'] }).submit(pack, 'data');
      assert.equal(f.key, 'job-8');
      assert.equal(await f, 'data');
      assert.equal((await client.story(f)).find((e) => e.to === 'processing')?.worker, 'worker-1');
    });

    it('test_persist: persist() on the default client keeps the results on the cluster; what is built on them does not compute them again', async () => {
      const own = new Client(cluster); // the default client while it is open
      try {
        const x = delayed(inc, { pure: true })(delayed(inc, { pure: true })(processes ? 100 : 200));
        const [kept] = await persist(x);
        assert.equal(kept.key, x.key);
        assert.equal(await delayed(inc)(kept).compute(), processes ? 103 : 203);
        assert.equal(cluster.scheduler.state.story(x.key).filter((e) => e.to === 'processing').length, 1, 'x computed once');
        assert.deepEqual((await own.whoHas([x.key]))[x.key]!.length, 1, 'x held on the cluster');
      } finally {
        await own.close();
      }
    });

    it('test_chained_error_message: an error\'s cause chain arrives whole', async () => {
      const f = client.submit(failWithCause);
      const error = (await f.result().catch((e: unknown) => e)) as TaskError;
      assert.ok(error instanceof TaskError);
      const raised = error.cause as Error;
      assert.equal(raised.message, 'Foo');
      const cause = raised.cause as Error;
      assert.equal(cause.name, 'RangeError');
      assert.equal(cause.message, 'Bar');
      assert.equal(cause.cause, 'the root');
      assert.match(cause.stack ?? '', /failWithCause/);
    });

    it('test_turn_off_pickle / test_run: client.run and runOnScheduler take a lambda that closes over nothing, by its source', async () => {
      const ran = await client.run(() => 1);
      assert.deepEqual(Object.values(ran), [1, 1]);
      assert.equal(await client.runOnScheduler(() => 1), 1);
      assert.deepEqual(Object.values(await client.run((x: number) => x + 1, { args: [1] })), [2, 2]);
      const limit = 2;
      await assert.rejects(
        client.run(() => limit),
        { message: 'Task "run(function)" uses ()=>limit, which closes over `limit`: distributed workers get a function no module exports as its source alone, without that variable. Pass it as an argument of the task, export the function from a module (export function ...), or run with --scheduler sync.' },
      );
    });

    it('test_get_foo / test_get_foo_lost_keys: whoHas of every key, of one future, of keys; story of a future', async () => {
      const x = client.options({ key: 'who-x' }).submit(inc, 1);
      await x;
      const all = await client.whoHas();
      assert.equal(all['who-x']!.length, 1);
      assert.deepEqual(Object.keys(await client.whoHas(x)), ['who-x']);
      assert.deepEqual(await client.whoHas(['no-such-key']), { 'no-such-key': [] });
      assert.equal((await client.story(x)).at(-1)!.to, 'memory');
      await assert.rejects(client.whoHas(5 as never), { name: 'TypeError', message: 'whoHas() takes futures or keys (strings); got number 5.' });
    });

    it('test_blocked_handlers_are_respected: malformed requests are answered with what they need; the scheduler serves on', async () => {
      const transport = processes ? socketTransport(cluster.secret) : inprocTransport;
      const raw: Comm<{ op: string; [k: string]: unknown }, { op: string; id?: number; error?: string; message?: string; request?: string }> = await transport.connect(cluster.schedulerAddress);
      const answers: Array<{ op: string; id?: number; error?: string; message?: string; request?: string }> = [];
      raw.onMessage((m) => answers.push(m));
      const long = 'k'.repeat(70_000);
      const requests: Array<[Record<string, unknown>, string]> = [
        [{ op: 'who-has', id: 1, keys: 'x' }, 'who-has: keys must be a list of keys (strings), or nothing for every key; got the string "x"'],
        [{ op: 'who-has', id: 2, keys: [{}] }, 'who-has: keys must be a list of keys (strings), or nothing for every key; got a list with an element of another type'],
        [{ op: 'story', id: 3 }, 'story: key must be a key (string); got nothing'],
        [{ op: 'story', id: 4, key: long }, 'story: key must be a key (string); got a string of 70000 characters (at most 65536)'],
        [{ op: 'task-stream', id: 5, start: 'yesterday' }, 'task-stream: start must be a time (ms since the epoch); got the string "yesterday"'],
        [{ op: 'run-on-scheduler', id: 6, fn: 'f', args: [] }, 'run-on-scheduler: fn must be a function reference [module URL, export name]; got the string "f"'],
        [{ op: 'register-plugin', id: 7, plugin: null }, 'register-plugin: plugin must be a plugin ({ name, kind, cls, fields }); got null'],
        [{ op: 'no-such-op', id: 8 }, 'unknown request "no-such-op"; the scheduler takes register-client, update-graph, scatter, release-keys, cancel-keys, retry-keys, who-has, scheduler-info, story, has-what, restart, get-profile, performance-data, task-stream, run-on-scheduler, register-plugin, unregister-plugin'],
        [{ op: 'update-graph', client: 'c', tasks: [{ key: 'a' }], wanted: ['a'], events: false, values: false }, 'update-graph: tasks must be a list of task specs ({ key, task, fns, deps, priority }); got a list with an element of another type'],
        [{ op: 'release-keys', client: 'c' }, 'release-keys: keys must be a list of keys (strings); got nothing'],
        [{ op: 'cancel-keys', client: 'c', keys: 7 }, 'cancel-keys: keys must be a list of keys (strings); got number 7'],
        [{ op: 'scatter', client: 'c', keys: ['s'], nbytes: [-1], worker: 'w' }, 'scatter: nbytes must be a list of byte counts; got a list with an element of another type'],
        [{ op: 'task-finished', key: 'a', nbytes: 1, start: 0, end: 1, thread: 't' }, "task-finished is a worker's message; this connection is not a worker"],
      ];
      try {
        for (const [i, [request, expected]] of requests.entries()) {
          raw.send(request as never);
          const answer = await until(`the answer to ${request.op}`, () => answers[i]);
          if (request.op === 'update-graph') assert.deepEqual(answer, { op: 'task-erred', key: 'a', root: 'a', error: { name: 'SkeinError', message: `The scheduler refused this graph: ${expected}`, props: { code: 'REQUEST_REFUSED' } } });
          else if (typeof request.id === 'number') assert.deepEqual(answer, { op: 'reply', id: request.id, value: undefined, error: expected });
          else assert.deepEqual(answer, { op: 'request-refused', request: request.op, message: expected });
          // alive and serving after each
          assert.equal(await client.submit(inc, i), i + 1);
        }
        raw.send({ op: 'who-has', id: 99 } as never);
        const every = await until('who-has of every key', () => answers[requests.length]);
        assert.equal(every.id, 99);
        assert.equal(every.error, undefined);
      } finally {
        raw.close();
      }
      // every request, each argument in turn missing, of the wrong type and oversized
      const valid: Record<string, Record<string, unknown>> = {
        'update-graph': { client: 'c', tasks: [], wanted: ['fuzz-w'], events: false, values: false },
        scatter: { client: 'c', keys: [], nbytes: [], worker: 'w' },
        'release-keys': { client: 'c', keys: [] },
        'cancel-keys': { client: 'c', keys: [] },
        'retry-keys': { client: 'c', keys: [] },
        'who-has': { id: 1, keys: [] },
        'scheduler-info': { id: 1 },
        story: { id: 1, key: 'k' },
        'has-what': { id: 1 },
        restart: { id: 1 },
        'get-profile': { id: 1 },
        'performance-data': { id: 1, start: 0 },
        'task-stream': { id: 1, start: 0 },
        'run-on-scheduler': { id: 1, fn: ['file:///x.js', 'f'], args: [] },
        'register-plugin': { id: 1, plugin: { name: 'p', kind: 'worker', cls: ['file:///x.js', 'P'], fields: {} } },
        'unregister-plugin': { id: 1, name: 'p' },
      };
      const fuzz = await transport.connect(cluster.schedulerAddress);
      const heard: Array<{ op: string; id?: number; error?: string | { message: string }; message?: string }> = [];
      fuzz.onMessage((m) => heard.push(m as never));
      let sent = 0;
      let nextId = 1000;
      try {
        for (const [op, args] of Object.entries(valid)) {
          for (const name of Object.keys(args)) {
            // (a run's arguments are data: any size)
            const oversized = typeof args[name] === 'string' ? 'x'.repeat(70_000) : Array.isArray(args[name]) && name !== 'args' ? ['x'.repeat(70_000)] : undefined;
            for (const bad of [undefined, { wrong: true }, ...(oversized === undefined ? [] : [oversized])]) {
              if (op === 'who-has' && name === 'keys' && bad === undefined) continue; // no keys: every key (Dask's who_has())
              const id = nextId++;
              const message = { op, ...args, ...(name === 'id' ? {} : { id: 'id' in args ? id : undefined }), [name]: bad };
              if (message.id === undefined) delete message.id;
              fuzz.send(message as never);
              sent++;
              const answer = await until(`the answer to ${op} with a bad ${name}`, () => heard[sent - 1]);
              // a refused graph fails the keys it wanted (task-erred); other requests are answered
              const text = typeof answer.error === 'object' ? answer.error.message.replace('The scheduler refused this graph: ', '') : (answer.error ?? answer.message ?? '');
              assert.ok(text.startsWith(`${op}: ${name} must be `), `${op} with ${name} = ${JSON.stringify(bad)?.slice(0, 40)}: ${JSON.stringify(answer).slice(0, 300)}`);
            }
          }
        }
        assert.equal(await client.submit(inc, 41), 42, 'the scheduler serves on');
      } finally {
        fuzz.close();
      }
      // a client's own call with a wrong argument is refused at the client, naming the call
      await assert.rejects(client.story(undefined as never), { name: 'TypeError', message: 'story() takes a key or a future; got undefined.' });
      // one task's story: a list is refused, not read as its first key
      await assert.rejects(client.story(['a', 'b'] as never), { name: 'TypeError', message: 'story() takes a key or a future; got a list.' });
    });
  });
}

describe("dask/distributed's tests: priorities on a busy worker (test_priorities.py)", () => {
  for (const processes of [true, false]) {
    it(`test_submit / test_map: on a busy single-thread worker, high priority runs before low (processes: ${processes})`, async () => {
      const client = new Client({ processes, nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
      try {
        await client.ready;
        const clog = client.options({ key: 'clog' }).submit(sleep, 400);
        await until('clog running', () => (client.cluster!.scheduler.state.tasks.get('clog')?.state === 'processing' ? true : undefined));
        const low = client.options({ key: 'low', priority: -1 }).submit(inc, 1);
        const lows = client.options({ key: ['l1', 'l2', 'l3'], priority: -1 }).map(inc, [1, 2, 3]);
        const high = client.options({ key: 'high', priority: 1 }).submit(inc, 2);
        const highs = client.options({ key: ['h1', 'h2', 'h3'], priority: 1 }).map(inc, [4, 5, 6]);
        await client.gather([clog, low, high, ...lows, ...highs]);
        const order = (await client.getTaskStream()).map((e) => e.key);
        assert.deepEqual(order.slice(0, 1), ['clog']);
        assert.deepEqual(new Set(order.slice(1, 5)), new Set(['high', 'h1', 'h2', 'h3']), order.join(', '));
        assert.deepEqual(new Set(order.slice(5)), new Set(['low', 'l1', 'l2', 'l3']), order.join(', '));
      } finally {
        await client.close();
      }
    });
  }
});

describe("dask/distributed's tests: starting and joining (deploy/tests/test_local.py)", () => {
  it('test_async_with: `await LocalCluster.start()` and `await new LocalCluster().ready` resolve at the top level of a module', () => {
    for (const how of ['start', 'ready']) {
      const r = script('clusterStart.mjs', [how]);
      assert.deepEqual([r.status, r.stdout, r.stderr], [0, '1 worker(s)\n', '']);
    }
  });

  it('test_nanny: twelve clients opened and closed, the program ending at once after the last: nothing printed (no write EPIPE)', () => {
    const r = script('closeMany.mjs');
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, 'closed 12\n', '']);
  });

  it('test_client_cluster_synchronous: client.cluster is there at once, with adapt; dashboardLink once ready', async () => {
    const client = new Client({ processes: false, nWorkers: 1, setAsDefault: false });
    try {
      assert.ok(client.cluster instanceof LocalCluster);
      assert.equal(typeof client.cluster.adapt, 'function');
      await client.ready;
      assert.match(client.dashboardLink ?? '', /^http:\/\/127\.0\.0\.1:\d+\/status$/);
    } finally {
      await client.close();
    }
  });

  it("test_coerce_to_address / test_Client_unused_kwargs_with_address: 'host:port' is tcp://host:port; cluster options with an address are refused", async () => {
    const cluster = await LocalCluster.start({ nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null });
    try {
      const bare = cluster.schedulerAddress.replace('tcp://', '');
      const client = new Client({ address: bare, secret: cluster.secret, setAsDefault: false });
      try {
        assert.equal(await client.submit(inc, 1), 2);
      } finally {
        await client.close();
      }
      assert.throws(() => new Client({ address: bare, nWorkers: 2, setAsDefault: false }), { name: 'TypeError', message: `new Client(): nWorkers size a cluster the client starts; a client of the scheduler at tcp://${bare} takes only address, secret, setAsDefault. Size the cluster where it is started (skein worker --nthreads, LocalCluster options).` });
      assert.throws(() => new Client({ nWorker: 2 } as never), { name: 'TypeError', message: 'new Client(): unknown option "nWorker" (did you mean "nWorkers"?). Options are nWorkers, threadsPerWorker, processes, memoryLimit, schedulerPort, validate, allowedFailures, workerTtlMs, dashboardAddress, dashboardToken, profile, address, secret, setAsDefault.' });
      assert.throws(() => new Client({ address: 'localhost', setAsDefault: false }), { name: 'TypeError', message: `"localhost" is not a scheduler address: give 'tcp://host:port' (or 'host:port'), 'nats://host:4222' or 'inproc://'.` });
    } finally {
      await cluster.close();
    }
  });

  it('test_dashboard_link: a client of a remote scheduler gets the dashboard that scheduler serves', async () => {
    const scheduler = new Scheduler({ listen: 'inproc://', transport: inprocTransport });
    scheduler.dashboardLink = 'http://127.0.0.1:8787/status';
    await scheduler.start();
    const client = new Client({ address: scheduler.address, setAsDefault: false });
    try {
      await client.ready;
      assert.equal(client.dashboardLink, 'http://127.0.0.1:8787/status');
    } finally {
      await client.close();
      await scheduler.close();
    }
  });

  it('test_Client_kwargs: numWorkers and threadsPerWorker from the environment or config.set size the cluster of new Client()', () => {
    const fromEnv = script('clientSized.mjs', [], { SKEIN_NUM_WORKERS: '2', SKEIN_THREADS_PER_WORKER: '2' });
    assert.deepEqual([fromEnv.status, fromEnv.stdout, fromEnv.stderr], [0, '[2,2]\n', '']);
    const fromSet = script('clientSized.mjs', ['set']);
    assert.deepEqual([fromSet.status, fromSet.stdout, fromSet.stderr], [0, '[1,1,1]\n', '']);
    const cli = spawnSync(process.execPath, ['bin/skein.js', 'run', 'examples/etl.graph.ts', '--scheduler', 'distributed'], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SKEIN_NUM_WORKERS: '2', SKEIN_THREADS_PER_WORKER: '1' } });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /tasks in [\d.]+ ms, distributed scheduler, 2 workers × 1 thread\n$/);
  });
});
