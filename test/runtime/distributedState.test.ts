// The distributed scheduler's state machine on its own, without sockets or workers: stimuli in,
// transitions (with their log) and messages out, compared with literals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerState } from '../../runtime/distributed/schedulerState.js';
import type { TaskSpec } from '../../runtime/distributed/protocol.js';

const spec = (key: string, deps: string[] = [], priority = 0): TaskSpec => ({ key, task: [key], fns: [], deps, priority });
const stamps = { start: 1, end: 2, thread: 'w/thread-1' };
const W1 = 'tcp://w1';
const W2 = 'tcp://w2';

function cluster(): SchedulerState {
  const st = new SchedulerState({ validate: true });
  st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
  st.addWorker({ address: W2, name: 'worker-1', pid: 2, nthreads: 1, memoryLimit: null }, 'add-2');
  return st;
}

/** The story of `key` as [from, to, stimulus] triples. */
const story = (st: SchedulerState, key: string) => st.story(key).map((e) => [e.from, e.to, e.stimulus]);

describe('distributed scheduler state', () => {
  it('retiring: a copy asked of a worker that leaves before it answers is asked of another; the retirement ends once copied', () => {
    const W3 = 'tcp://w3';
    const st = cluster();
    st.addWorker({ address: W3, name: 'worker-2', pid: 3, nthreads: 1, memoryLimit: null }, 'add-3');
    st.updateGraph('c', [spec('x')], ['x'], { events: false, values: false }, 'update');
    const holder = st.tasks.get('x')!.processingOn!.address;
    st.taskFinished(holder, 'x', 8, stamps, undefined, 'done-x');
    const acquires = (out: ReturnType<SchedulerState['retireWorkers']>) => [...out.workers].flatMap(([to, ms]) => ms.filter((m) => m.op === 'acquire').map((m) => [to, m])) as Array<[string, { keys: unknown }]>;
    const first = acquires(st.retireWorkers([holder], 'retire'));
    assert.equal(first.length, 1);
    const [askedOf, message] = first[0]!;
    assert.deepEqual(message.keys, [['x', [holder]]]);
    // asked again only once the asked worker is gone
    assert.deepEqual(acquires(st.retireProgress([holder], 'progress-1').out), []);
    assert.equal(st.retireProgress([holder], 'progress-2').done, false);
    st.removeWorker(askedOf, 'asked-worker-gone');
    const progress = st.retireProgress([holder], 'progress-3');
    const again = acquires(progress.out);
    assert.equal(again.length, 1);
    assert.notEqual(again[0]![0], askedOf);
    assert.notEqual(again[0]![0], holder);
    assert.equal(progress.done, false);
    st.keysAdded(again[0]![0], ['x'], 'keys-added');
    assert.equal(st.retireProgress([holder], 'progress-4').done, true);
  });

  it('keeps the latest runs for the task stream, oldest dropped first once full', () => {
    const st = new SchedulerState({ validate: true, taskStreamKept: 3 });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    const keys = ['a', 'b', 'c', 'd', 'e'];
    st.updateGraph('c', keys.map((k) => spec(k)), keys, { events: false, values: false }, 'update');
    keys.forEach((k, i) => st.taskFinished(W1, k, 8, { start: i, end: i + 1, thread: 'worker-0/thread-1' }, undefined, `done-${k}`));
    assert.deepEqual(st.taskStream.map((e) => [e.key, e.start, e.status]), [['c', 2, 'memory'], ['d', 3, 'memory'], ['e', 4, 'memory']]);
  });

  it('keeps the latest transitions, trimming the oldest as the log grows; entries keep their numbers', () => {
    const st = new SchedulerState({ validate: true, transitionLogKept: 10 });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    const keys = Array.from({ length: 8 }, (_, i) => `t-${i}`);
    st.updateGraph('c', keys.map((k) => spec(k)), keys, { events: false, values: false }, 'update');
    keys.forEach((k) => st.taskFinished(W1, k, 8, stamps, undefined, `done-${k}`));
    // 8 tasks, 3 transitions each (released>waiting>processing>memory): 24 logged, the log trimmed
    // to 10 when it reached 20, then 4 more
    assert.equal(st.logStart + st.log.length, 24);
    assert.deepEqual([st.logStart, st.log.length], [10, 14]);
    // the 8 released>waiting and the first 2 waiting>processing went
    assert.deepEqual(story(st, 't-7'), [
      ['waiting', 'processing', 'update'],
      ['processing', 'memory', 'done-t-7'],
    ]);
    assert.deepEqual(story(st, 't-0'), [['processing', 'memory', 'done-t-0']]);
  });

  it('runs x -> y: the story of each key, the messages to workers and to the client', () => {
    //  x ─▶ y
    const st = cluster();
    const out = st.updateGraph('c', [spec('x'), spec('y', ['x'], 1)], ['y'], { events: false, values: false }, 'update-1');
    // y, the next link of x's chain, goes to x's worker with it, to run there right after x
    const sent = [...out.workers].flatMap(([w, ms]) => ms.map((m) => [w, m.op, m.op === 'compute-task' ? `${m.key} after ${m.after ?? 'nothing'}` : '']));
    assert.deepEqual(sent, [
      [W1, 'compute-task', 'x after nothing'],
      [W1, 'compute-task', 'y after x'],
    ]);
    const done = st.taskFinished(W1, 'x', 8, stamps, undefined, 'finished-x');
    // y is processing there now, with no message: it has it already
    assert.deepEqual([...done.workers], []);
    assert.equal(st.tasks.get('y')!.state, 'processing');
    const last = st.taskFinished(W1, 'y', 8, stamps, undefined, 'finished-y');
    assert.deepEqual(last.clients.get('c'), [{ op: 'key-in-memory', key: 'y', holders: [W1] }]);
    // x is released once y, its only dependent, is done; its worker is told to drop it
    assert.deepEqual(last.workers.get(W1), [{ op: 'free-keys', keys: ['x'] }]);
    assert.deepEqual(story(st, 'x'), [
      ['released', 'waiting', 'update-1'],
      ['waiting', 'processing', 'update-1'],
      ['processing', 'memory', 'finished-x'],
      ['memory', 'released', 'finished-y'],
    ]);
    assert.deepEqual(story(st, 'y'), [
      ['released', 'waiting', 'update-1'],
      ['waiting', 'processing', 'finished-x'],
      ['processing', 'memory', 'finished-y'],
    ]);
    // once y is let go, x (released, kept while y referred to it) is forgotten with it
    st.releaseKeys('c', ['y'], 'release');
    assert.deepEqual(story(st, 'x').at(-1), ['released', 'forgotten', 'release']);
    assert.equal(st.tasks.size, 0);
  });

  it('places a restricted task only on its workers, by name or address: no-worker until one of them joins', () => {
    const st = cluster();
    const onlyW3 = { ...spec('r'), workers: ['worker-2'] };
    const byAddress = { ...spec('s'), workers: [W2] };
    const out = st.updateGraph('c', [onlyW3, byAddress], ['r', 's'], { events: false, values: false }, 'update');
    assert.deepEqual([...out.workers].flatMap(([w, ms]) => ms.map((m) => [w, m.op, m.op === 'compute-task' ? m.key : ''])), [[W2, 'compute-task', 's']]);
    assert.deepEqual(story(st, 'r'), [
      ['released', 'waiting', 'update'],
      ['waiting', 'no-worker', 'update'],
    ]);
    // a worker of another name joins: r stays without a worker; worker-2 joins: r runs there
    st.addWorker({ address: 'tcp://w4', name: 'worker-3', pid: 4, nthreads: 1, memoryLimit: null }, 'add-4');
    assert.equal(st.tasks.get('r')!.state, 'no-worker');
    const joined = st.addWorker({ address: 'tcp://w3', name: 'worker-2', pid: 3, nthreads: 1, memoryLimit: null }, 'add-3');
    assert.deepEqual(joined.workers.get('tcp://w3')?.map((m) => (m.op === 'compute-task' ? m.key : m.op)), ['r']);
    assert.equal(st.tasks.get('r')!.processingOn?.address, 'tcp://w3');
  });

  it('re-runs the tasks of a worker that died, and recomputes what only it held', () => {
    //  a ─▶ b ─▶ c
    const st = cluster();
    st.updateGraph('c', [spec('a'), spec('b', ['a'], 1), spec('c', ['b'], 2)], ['c'], { events: false, values: false }, 'update');
    st.taskFinished(W1, 'a', 8, stamps, undefined, 'finished-a');
    // b runs on W1 (where a is); W1 dies: b runs again, a is computed again, both on W2
    const out = st.removeWorker(W1, 'w1-died');
    // a runs on W2, and its chain is sent there with it
    assert.deepEqual([...out.workers].flatMap(([w, ms]) => ms.map((m) => [w, m.op, m.op === 'compute-task' ? `${m.key} after ${m.after ?? 'nothing'}` : ''])), [
      [W2, 'compute-task', 'a after nothing'],
      [W2, 'compute-task', 'b after a'],
      [W2, 'compute-task', 'c after b'],
    ]);
    assert.deepEqual(story(st, 'b').slice(-2), [
      ['processing', 'released', 'w1-died'],
      ['released', 'waiting', 'w1-died'],
    ]);
    assert.deepEqual(story(st, 'a').slice(-3), [
      ['memory', 'released', 'w1-died'],
      ['released', 'waiting', 'w1-died'],
      ['waiting', 'processing', 'w1-died'],
    ]);
    st.taskFinished(W2, 'a', 8, stamps, undefined, 'a-again');
    st.taskFinished(W2, 'b', 8, stamps, undefined, 'b-again');
    const last = st.taskFinished(W2, 'c', 8, stamps, undefined, 'c-done');
    assert.deepEqual(last.clients.get('c'), [{ op: 'key-in-memory', key: 'c', holders: [W2] }]);
  });

  it('fails a task with KilledWorker after allowedFailures deaths, naming the key and the workers', () => {
    const st = new SchedulerState({ validate: true, allowedFailures: 1 });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    st.updateGraph('c', [spec('boom')], ['boom'], { events: false, values: false }, 'update');
    st.addWorker({ address: W2, name: 'worker-1', pid: 2, nthreads: 1, memoryLimit: null }, 'add-2');
    st.removeWorker(W1, 'died-1');
    const out = st.removeWorker(W2, 'died-2');
    const [message] = out.clients.get('c')!;
    assert.ok(message?.op === 'task-erred');
    assert.equal(message.root, 'boom');
    assert.deepEqual(message.killed, ['worker-0', 'worker-1']);
    assert.equal(message.error.name, 'KilledWorker');
    assert.equal(
      message.error.message,
      'Task "boom" was running on 2 workers that died (worker-0, worker-1); after 1 deaths it is not tried again. The task may crash its worker (out of memory, process.exit, a native crash): run it with the sync scheduler to see why, or raise allowedFailures.',
    );
  });

  it('waits with no worker, and starts when one joins', () => {
    const st = new SchedulerState({ validate: true });
    st.updateGraph('c', [spec('x')], ['x'], { events: false, values: false }, 'update');
    assert.equal(st.tasks.get('x')!.state, 'no-worker');
    const out = st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'joined');
    assert.deepEqual(out.workers.get(W1)?.map((m) => m.op), ['compute-task']);
    assert.deepEqual(story(st, 'x'), [
      ['released', 'waiting', 'update'],
      ['waiting', 'no-worker', 'update'],
      ['no-worker', 'waiting', 'joined'],
      ['waiting', 'processing', 'joined'],
    ]);
  });

  it('queues what no worker has room for, and hands it out by priority as room frees', () => {
    const st = new SchedulerState({ validate: true });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add');
    const specs = Array.from({ length: 30 }, (_, i) => spec(`t-${i}`, [], 30 - i));
    st.updateGraph('c', specs, specs.map((s) => s.key), { events: false, values: false }, 'update');
    // an unmeasured task counts 0.5 ms: 20 of them make 10 ms of work for one thread
    const processing = [...st.tasks.values()].filter((t) => t.state === 'processing').map((t) => t.key);
    const queued = [...st.tasks.values()].filter((t) => t.state === 'queued').map((t) => t.key);
    assert.deepEqual([processing.length, queued.length], [20, 10], `processing ${processing.join(' ')}; queued ${queued.join(' ')}`);
    assert.equal(queued.length, 10);
    // the lowest priority numbers went first: t-29 .. t-10 run, t-9 .. t-0 wait
    assert.ok(processing.includes('t-29') && processing.includes('t-10') && queued.includes('t-9') && queued.includes('t-0'));
    const out = st.taskFinished(W1, 't-29', 8, stamps, undefined, 'done');
    assert.deepEqual(out.workers.get(W1)?.map((m) => (m.op === 'compute-task' ? m.key : m.op)), ['t-9']);
    assert.deepEqual(story(st, 't-9').map(([f, t]) => `${f}→${t}`), ['released→waiting', 'waiting→queued', 'queued→processing']);
  });

  it('over NATS, queues what no worker has room for in the shared work queue: claims granted once, stale and duplicate ones refused, a redelivery from a silent worker a re-run counted toward allowedFailures', () => {
    const st = new SchedulerState({ validate: true, allowedFailures: 1 });
    st.sharedQueue = true;
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    st.addWorker({ address: W2, name: 'worker-1', pid: 2, nthreads: 1, memoryLimit: null }, 'add-2');
    const specs = Array.from({ length: 44 }, (_, i) => spec(`t-${i}`, [], i));
    // a task with an input is never queued there: a worker holding its input is the place for it
    const out = st.updateGraph('c', [...specs, spec('sum', ['t-0'], 99)], ['sum', ...specs.map((s) => s.key)], { events: false, values: false }, 'update');
    // 20 unmeasured tasks (0.5 ms each) fill a thread: 40 sent, the last 4 published, in priority order
    assert.deepEqual(out.queue, [40, 41, 42, 43].map((i, n) => ({ key: `t-${i}`, seq: n + 1 })));
    assert.equal(st.tasks.get('t-40')!.state, 'queued');
    const refusals = (o: ReturnType<SchedulerState['claimTasks']>, w: string) => (o.workers.get(w) ?? []).map((m) => (m.op === 'claim-refused' ? `refused ${m.key}#${m.seq}${m.later ? ' for now' : ''}` : m.op === 'compute-task' ? `run ${m.key}` : m.op));
    const quiet = () => 0;
    // granted: the task goes to the claimer, as any task does
    assert.deepEqual(refusals(st.claimTasks(W1, [{ key: 't-40', seq: 1, redelivered: false }], quiet, 2000, 'claim-1'), W1), ['run t-40']);
    assert.deepEqual(story(st, 't-40').slice(-1), [['queued', 'processing', 'claim-1']]);
    assert.equal(st.story('t-40').at(-1)!.worker, 'worker-0');
    // the same message claimed by another worker (delivered twice) while its runner is heard from: refused for now
    assert.deepEqual(refusals(st.claimTasks(W2, [{ key: 't-40', seq: 1, redelivered: true }], quiet, 2000, 'claim-2'), W2), ['refused t-40#1 for now']);
    // a number from an earlier queuing, or a key no one knows: refused
    assert.deepEqual(refusals(st.claimTasks(W2, [{ key: 't-41', seq: 9, redelivered: false }, { key: 'nope', seq: 3, redelivered: false }], quiet, 2000, 'claim-3'), W2), ['refused t-41#9', 'refused nope#3']);
    // delivered again to the worker that runs it: nothing to say
    assert.equal(st.claimTasks(W1, [{ key: 't-40', seq: 1, redelivered: true }], quiet, 2000, 'claim-4').workers.size, 0);
    // delivered again after its worker has been silent for the ack wait: run again on the claimer, its worker told to drop it
    const silent = (address: string) => (address === W1 ? 2500 : 0);
    const rerun = st.claimTasks(W2, [{ key: 't-40', seq: 1, redelivered: true }], silent, 2000, 'claim-5');
    assert.deepEqual(refusals(rerun, W2), ['run t-40']);
    assert.deepEqual(rerun.workers.get(W1)?.map((m) => m.op), ['free-keys']);
    assert.deepEqual(story(st, 't-40').slice(-1), [['processing', 'processing', 'claim-5']]);
    assert.deepEqual(st.tasks.get('t-40')!.killedOn, ['worker-0']);
    // and once more, from the other: a second death is more than allowedFailures (1)
    const failed = st.claimTasks(W1, [{ key: 't-40', seq: 1, redelivered: true }], (a) => (a === W2 ? 2500 : 0), 2000, 'claim-6');
    assert.deepEqual(refusals(failed, W1), ['refused t-40#1']);
    const [message] = failed.clients.get('c')!;
    assert.ok(message?.op === 'task-erred');
    assert.deepEqual(message.killed, ['worker-0', 'worker-1']);
    // a worker that dies with a claimed task: the task is queued again under a new number
    assert.deepEqual(refusals(st.claimTasks(W2, [{ key: 't-41', seq: 2, redelivered: false }], quiet, 2000, 'claim-7'), W2), ['run t-41']);
    const ran = [...st.workers.get(W2)!.processing].sort((a, b) => a.spec.priority - b.spec.priority).map((t) => t.key);
    assert.equal(ran.length, 21);
    const removed = st.removeWorker(W2, 'gone');
    // (and what it ran directly: worker-0 has no room, so all of it waits in the queue, by priority)
    assert.deepEqual(removed.queue, ran.map((key, n) => ({ key, seq: 5 + n })));
    assert.deepEqual(st.tasks.get('t-41')!.killedOn, ['worker-1']);
  });

  it('drops at once what a new graph brings that no wanted key needs: the inputs of a result already in memory', () => {
    //  w ─▶ x (in memory: scattered by client a) ─▶ y (wanted by client b)
    const st = cluster();
    st.scatter('a', ['x'], [8], W1, 'scatter');
    const out = st.updateGraph('b', [spec('w'), spec('x', ['w'], 1), spec('y', ['x'], 2)], ['y'], { events: false, values: false }, 'graph');
    assert.deepEqual([...out.workers].flatMap(([, ms]) => ms.map((m) => (m.op === 'compute-task' ? m.key : m.op))), ['y']);
    assert.deepEqual(story(st, 'w'), [['released', 'forgotten', 'graph']]);
    assert.deepEqual([...st.tasks.keys()].sort(), ['x', 'y']);
  });

  it('steals for a worker that joins idle: the busy one gives back what has not started, the newcomer runs it', () => {
    const st = new SchedulerState({ validate: true });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    const specs = Array.from({ length: 11 }, (_, i) => spec(`t-${i}`, [], i));
    st.updateGraph('c', specs, specs.map((s) => s.key), { events: false, values: false }, 'update');
    // the group is measured: its tasks take 5 ms, worth moving
    st.taskFinished(W1, 't-0', 8, { start: 0, end: 5, thread: 'w/thread-1' }, undefined, 't-0-done');
    assert.equal(st.workers.get(W1)!.processing.size, 10);
    const joined = st.addWorker({ address: W2, name: 'worker-1', pid: 2, nthreads: 1, memoryLimit: null }, 'add-2');
    // 10 on one thread, 2 may be in its batches: of the 8 beyond, half, latest in priority first
    assert.deepEqual(joined.workers.get(W1), [{ op: 'steal', keys: ['t-10', 't-9', 't-8', 't-7'] }]);
    st.stealResponse(W1, 't-9', false, 'running-already');
    const moved = st.stealResponse(W1, 't-10', true, 'stolen');
    assert.deepEqual(moved.workers.get(W2)?.map((m) => (m.op === 'compute-task' ? m.key : m.op)), ['t-10']);
    assert.equal(st.tasks.get('t-10')!.processingOn?.address, W2);
    assert.deepEqual(story(st, 't-10').slice(-2).map(([f, t, why]) => `${f}→${t} (${why})`), ['processing→waiting (stolen)', 'waiting→processing (stolen)']);
    assert.equal(st.tasks.get('t-9')!.processingOn?.address, W1);
  });

  it('takes back a link sent ahead when the task before it ran elsewhere (stolen), and sends it where its input is', () => {
    const st = new SchedulerState({ validate: true });
    st.addWorker({ address: W1, name: 'worker-0', pid: 1, nthreads: 1, memoryLimit: null }, 'add-1');
    // ten chains a-i -> b-i, each b sent ahead to W1 with its a
    const specs = Array.from({ length: 10 }, (_, i) => [spec(`a-${i}`, [], i), spec(`b-${i}`, [`a-${i}`], 100 + i)]).flat();
    st.updateGraph('c', specs, specs.filter((x) => x.key.startsWith('b')).map((x) => x.key), { events: false, values: false }, 'update');
    assert.equal(st.tasks.get('b-9')!.pinnedTo?.address, W1);
    st.addWorker({ address: W2, name: 'worker-1', pid: 2, nthreads: 1, memoryLimit: null }, 'add-2');
    st.stealResponse(W1, 'a-9', true, 'stolen');
    const out = st.taskFinished(W2, 'a-9', 8, stamps, undefined, 'a-9-done');
    assert.deepEqual(out.workers.get(W1), [{ op: 'free-keys', keys: ['b-9'] }]);
    assert.deepEqual(out.workers.get(W2)?.map((m) => (m.op === 'compute-task' ? m.key : m.op)), ['b-9']);
    assert.equal(st.tasks.get('b-9')!.processingOn?.address, W2);
  });

  it('makes the dependents of a failed task fail with it, and tells the client which task raised', () => {
    //  a (raises) ─▶ b
    const st = cluster();
    st.updateGraph('c', [spec('a'), spec('b', ['a'], 1)], ['b'], { events: false, values: false }, 'update');
    const out = st.taskErred(W1, 'a', { name: 'Error', message: 'boom', props: {} }, stamps, 'erred');
    assert.deepEqual(out.clients.get('c'), [{ op: 'task-erred', key: 'b', root: 'a', error: { name: 'Error', message: 'boom', props: {} }, killed: undefined }]);
    assert.equal(st.tasks.get('b')!.state, 'erred');
    st.releaseKeys('c', ['b'], 'release');
    assert.equal(st.tasks.size, 0, 'an erred task no one needs is forgotten with its dependents');
  });
});
