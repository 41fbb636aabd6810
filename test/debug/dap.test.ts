// The debug adapter end to end over stdio, through the Debug Adapter Protocol
// (@vscode/debugadapter-testsupport's DebugClient), on test/data/debug.graph.ts:
//
//   start ─▶ double-1 ─┬─▶ add-1 ─┐
//                      └─▶ add-2 ─┴─▶ total ─▶ check        (check throws when its input > 80)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { get, type Callback } from 'skein';

const root = fileURLToPath(new URL('../..', import.meta.url));
const program = join(root, 'test/data/debug.graph.ts');
const adapter = join(root, 'dist/debugAdapter.js');

type Reverse = { seq: number; command: string; arguments: Record<string, unknown> };

/** A DebugClient that records reverse requests (startDebugging) and answers them with success. */
function client(): { dc: DebugClient; reverse: Reverse[]; output: () => string } {
  const dc = new DebugClient('node', adapter, 'skein');
  const reverse: Reverse[] = [];
  let output = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => (output += e.body.output));
  const raw = dc as unknown as { dispatch(body: string): void; outputStream: NodeJS.WritableStream };
  const dispatch = raw.dispatch.bind(dc);
  raw.dispatch = (body: string) => {
    const message = JSON.parse(body) as { type: string } & Reverse;
    if (message.type !== 'request') return dispatch(body);
    reverse.push(message);
    const json = JSON.stringify({ type: 'response', seq: 0, request_seq: message.seq, command: message.command, success: true });
    raw.outputStream.write(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  };
  return { dc, reverse, output: () => output };
}

async function launch(dc: DebugClient, args: Record<string, unknown>, configure: () => Promise<unknown> = async () => undefined): Promise<void> {
  // the initialized event follows the initialize response at once: listen before asking
  const initialized = dc.waitForEvent('initialized');
  await dc.initializeRequest({ adapterID: 'skein', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsStartDebuggingRequest: true });
  await Promise.all([
    dc.launchRequest({ program, ...args } as DebugProtocol.LaunchRequestArguments),
    (async () => {
      await initialized;
      await configure();
      await dc.configurationDoneRequest();
    })(),
  ]);
}

async function stoppedAt(dc: DebugClient): Promise<{ key: string; reason: string; body: DebugProtocol.StoppedEvent['body'] }> {
  const e = (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
  const st = await dc.stackTraceRequest({ threadId: 1 });
  return { key: st.body.stackFrames[0]!.name.split(' ')[0]!, reason: e.body.reason, body: e.body };
}

async function step(dc: DebugClient, request: 'next' | 'continue' | 'stepOut'): Promise<{ key: string; reason: string; body: DebugProtocol.StoppedEvent['body'] }> {
  const stopped = stoppedAt(dc);
  if (request === 'next') await dc.nextRequest({ threadId: 1 });
  else if (request === 'continue') await dc.continueRequest({ threadId: 1 });
  else await dc.stepOutRequest({ threadId: 1 });
  return stopped;
}

async function variables(dc: DebugClient, ref: number): Promise<Record<string, string>> {
  const r = await dc.variablesRequest({ variablesReference: ref });
  return Object.fromEntries(r.body.variables.map((v) => [v.name, v.value]));
}

async function taskScope(dc: DebugClient): Promise<{ task: Record<string, string>; inputs: Record<string, string>; inputsRef: number }> {
  const scopes = await dc.scopesRequest({ frameId: 1 });
  const r = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0]!.variablesReference });
  const inputsRef = r.body.variables.find((v) => v.name === 'inputs')!.variablesReference;
  return { task: Object.fromEntries(r.body.variables.map((v) => [v.name, v.value])), inputs: await variables(dc, inputsRef), inputsRef };
}

/** The order in which the sync scheduler runs the tasks of the graph. */
async function syncOrder(): Promise<string[]> {
  const { default: graph } = (await import(program)) as { default: Record<string, unknown> };
  const seen: string[] = [];
  const cb: Callback = { pretask: (key) => void seen.push(key) };
  await get(graph, 'total', { scheduler: 'sync', callbacks: [cb] });
  return seen;
}

const line = (text: string): number => readFileSync(program, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

describe('debug adapter (DAP over stdio)', () => {
  let dc: DebugClient;
  let reverse: Reverse[];
  let output: () => string;

  beforeEach(async () => {
    ({ dc, reverse, output } = client());
    await dc.start();
  });
  afterEach(async () => {
    await dc.stop();
  });
  after(() => undefined);

  it('stops on entry at the first task, in the function that defines it, on one scheduler thread', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true, configuredScheduler: 'threads' });
    const s = await stopped;
    assert.equal(s.reason, 'entry');
    assert.equal(s.key, 'double-1');
    assert.equal(s.body.description, 'Paused before the first task, "double-1"');
    const threads = await dc.threadsRequest();
    assert.deepEqual(threads.body.threads, [{ id: 1, name: 'Skein scheduler (synchronous)' }]);
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.deepEqual(
      st.body.stackFrames.map((f) => [f.name, f.source?.path, f.line]),
      [
        ['double-1 (double)', program, line('export function double')],
        ['add-1 (add, waiting)', program, line('export function add')],
        ['total (total, waiting)', program, line('export function total')],
        ['check (check, waiting)', program, line('export function check')],
      ],
    );
    assert.match(output(), /^Skein debugs with the synchronous scheduler \(configured: threads\): tasks run one at a time/);
  });

  it('`next` visits the tasks in the order the sync scheduler runs them', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true, keys: ['total'] });
    const visited = [(await stopped).key];
    for (;;) {
      const next = stoppedAt(dc).catch(() => undefined);
      const ended = dc.waitForEvent('terminated').then(() => undefined);
      await dc.nextRequest({ threadId: 1 });
      const s = await Promise.race([next, ended]);
      if (s === undefined) break;
      visited.push(s.key);
    }
    assert.deepEqual(visited, await syncOrder());
    assert.deepEqual(visited, ['double-1', 'add-1', 'add-2', 'total']);
  });

  it('shows the task, its inputs by parameter name, and the last result; prints with the key', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {}, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-2' }] }));
    const s = await stopped;
    assert.equal(s.key, 'add-2');
    const { task, inputs } = await taskScope(dc);
    assert.deepEqual(task, {
      key: '"add-2"',
      group: '"add"',
      function: '"add"',
      order: '"4 of 6"',
      dependencies: "[ 'double-1' ]",
      dependents: "[ 'total' ]",
      inputs: '(a, b)',
    });
    assert.deepEqual(inputs, { a: '42', b: '2' });
    const scopes = await dc.scopesRequest({ frameId: 1 });
    assert.deepEqual(await variables(dc, scopes.body.scopes[1]!.variablesReference), { key: '"add-1"', value: '43' });
    const graph = await variables(dc, scopes.body.scopes[2]!.variablesReference);
    assert.deepEqual({ ...graph, 'results in memory': undefined }, { tasks: '6', waiting: '2', ready: '0', running: '1', memory: '2', released: '1', erred: '0', 'results in memory': undefined });
    assert.match(output(), /\[add-1\] adding 42 and 1\n/);
  });

  it('breaks on a key glob, with hit counts and conditions over the inputs', async () => {
    const stopped = stoppedAt(dc);
    let result: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
    await launch(dc, {}, async () => {
      result = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-*', condition: 'b === 2' }, { name: 'nothing-*' }] });
    });
    assert.deepEqual(
      result!.body.breakpoints.map((b) => [b.verified, b.message]),
      [
        [true, undefined],
        [false, 'No task key, key group or glob matches "nothing-*".'],
      ],
    );
    const s = await stopped;
    assert.equal(s.key, 'add-2');
    assert.equal(s.reason, 'breakpoint');
    assert.deepEqual(s.body.hitBreakpointIds, [result!.body.breakpoints[0]!.id]);
  });

  it('a breakpoint whose condition mentions result pauses after the task ran, on its result; Restart Frame runs it again', async () => {
    const stopped = stoppedAt(dc);
    let result: DebugProtocol.SetFunctionBreakpointsResponse | undefined;
    await launch(dc, {}, async () => {
      result = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-*', condition: 'result === 44' }] });
    });
    const s = await stopped;
    assert.equal(s.key, 'add-2');
    assert.equal(s.reason, 'breakpoint');
    assert.equal(s.body.description, 'Paused after task "add-2": its result meets a breakpoint\'s condition');
    assert.deepEqual(s.body.hitBreakpointIds, [result!.body.breakpoints[0]!.id]);
    const { task, inputs } = await taskScope(dc);
    assert.equal(task.result, '44');
    assert.deepEqual(inputs, { a: '42', b: '2' });
    assert.equal((await dc.evaluateRequest({ expression: 'result - a', context: 'repl' })).body.result, '2');
    // Restart Frame: before the task again, inputs editable; with b = 3 its result no longer matches
    const restarted = stoppedAt(dc);
    await dc.restartFrameRequest({ frameId: 1 });
    assert.equal((await restarted).key, 'add-2');
    const { inputsRef } = await taskScope(dc);
    await dc.setVariableRequest({ variablesReference: inputsRef, name: 'b', value: '3' });
    const next = await step(dc, 'continue');
    // no second stop after add-2 (45); the next stop is check's error: 43 + 45 = 88 is too large
    assert.equal(next.key, 'check');
    assert.equal(next.reason, 'exception');
    assert.equal(next.body.text, 'Task "check" failed: value 88 is too large');
  });

  it('counts hits of result breakpoints as of others', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {}, async () => {
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '*', condition: 'result > 40', hitCondition: '3' }] });
    });
    // double-1 (42), add-1 (43): hits 1 and 2; add-2 (44): the third
    const s = await stopped;
    assert.equal(s.key, 'add-2');
    assert.equal((await taskScope(dc)).task.result, '44');
  });

  it('runs to a task (Run to Here, the skeinRunTo request), and answers false for a task that has run', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true });
    assert.equal((await stopped).key, 'double-1');
    const next = stoppedAt(dc);
    const r = await dc.customRequest('skeinRunTo', { key: 'total' });
    assert.deepEqual(r.body, { stopping: true });
    const s = await next;
    assert.equal(s.key, 'total');
    assert.equal(s.reason, 'breakpoint');
    assert.deepEqual((await dc.customRequest('skeinRunTo', { key: 'add-1' })).body, { stopping: false });
  });

  it('takes a breakpoint set while paused, and stops there', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true });
    assert.equal((await stopped).key, 'double-1');
    const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'total' }] });
    assert.equal(r.body.breakpoints[0]!.verified, true);
    const s = await step(dc, 'continue');
    assert.equal(s.key, 'total');
    assert.equal(s.reason, 'breakpoint');
  });

  it('breaks on a line in a task function, on the line defining a task, and refuses other lines', async () => {
    const stopped = stoppedAt(dc);
    let result: DebugProtocol.SetBreakpointsResponse | undefined;
    await launch(dc, {}, async () => {
      result = await dc.setBreakpointsRequest({
        source: { path: program },
        breakpoints: [{ line: line('const y = x * 2') }, { line: line("  total: [total") }, { line: 2 }, { line: line('console.log'), hitCondition: '2' }],
      });
    });
    assert.deepEqual(
      result!.body.breakpoints.map((b) => b.verified),
      [true, true, false, true],
    );
    assert.match(result!.body.breakpoints[2]!.message!, /^Skein pauses before tasks: put the breakpoint inside a task function/);
    assert.equal((await stopped).key, 'double-1');
    assert.equal((await step(dc, 'continue')).key, 'add-2'); // the console.log line, second hit
    assert.equal((await step(dc, 'continue')).key, 'total');
  });

  it('resolves lines that define tasks as the language server reads the file: several lines, a loop, an assignment, not a comment', async () => {
    const file = join(root, 'test/data/debug-lines.graph.ts');
    const at = (needle: string): number => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
    const stopped = stoppedAt(dc);
    let result: DebugProtocol.SetBreakpointsResponse | undefined;
    await launch(dc, { program: file }, async () => {
      result = await dc.setBreakpointsRequest({
        source: { path: file },
        breakpoints: [{ line: at("'load-south',") }, { line: at("// 'old-report'") }, { line: at('graph[`load-${r}`]') }, { line: at('graph.extra') }],
      });
    });
    assert.deepEqual(
      result!.body.breakpoints.map((b) => b.verified),
      [true, false, true, true],
    );
    assert.equal((await stopped).key, 'load-north');
    assert.equal((await step(dc, 'continue')).key, 'load-south');
    assert.equal((await step(dc, 'continue')).key, 'report');
    assert.equal((await step(dc, 'continue')).key, 'extra');
  });

  it('setVariable changes what the task receives', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { keys: ['total'] }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-1' }] }));
    await stopped;
    const { inputsRef } = await taskScope(dc);
    const set = await dc.setVariableRequest({ variablesReference: inputsRef, name: 'b', value: '100' });
    assert.equal(set.body.value, '100');
    assert.deepEqual((await taskScope(dc)).inputs, { a: '42', b: '100' });
    const ended = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await ended;
    assert.match(output(), /\ntotal: 186\n/);
  });

  it('pauses on a task error with exceptionInfo, and restartFrame runs it again with edited inputs', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {});
    const s = await stopped;
    assert.equal(s.reason, 'exception');
    assert.equal(s.key, 'check');
    assert.equal(s.body.text, 'Task "check" failed: value 87 is too large');
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'RangeError');
    assert.equal(info.body.breakMode, 'always');
    assert.equal(info.body.details?.message, 'value 87 is too large');
    assert.match(info.body.details!.stackTrace!, new RegExp(`at check \\(${program.replace(/[/.]/g, '\\$&')}:${line('throw new RangeError')}:`));
    const restarted = stoppedAt(dc);
    await dc.restartFrameRequest({ frameId: 1 });
    assert.equal((await restarted).key, 'check');
    const { inputsRef } = await taskScope(dc);
    await dc.setVariableRequest({ variablesReference: inputsRef, name: 'value', value: '50' });
    const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
    assert.match(output(), /\ncheck: 50\n/);
  });

  it('a task error fails the run with exit code 1 when the Task error filter is off', async () => {
    const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    await launch(dc, {}, () => dc.setExceptionBreakpointsRequest({ filters: [] }));
    assert.equal((await exited).body.exitCode, 1);
    assert.match(output(), /Task "check" failed: value 87 is too large\n/);
  });

  it('evaluates expressions over inputs, args, the last result and held keys', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {}, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-2' }] }));
    await stopped;
    const value = async (expression: string): Promise<string> => (await dc.evaluateRequest({ expression, context: 'repl' })).body.result;
    assert.equal(await value('a + b'), '44');
    assert.equal(await value('inputs.b * 10'), '20');
    assert.equal(await value('args'), '[ 42, 2 ]');
    assert.equal(await value('result'), '43');
    assert.equal(await value('results["double-1"]'), '42');
    await assert.rejects(dc.evaluateRequest({ expression: 'start * 2', context: 'repl' }), /start is not defined/); // released once double-1 ran
    await assert.rejects(dc.evaluateRequest({ expression: 'nope.x', context: 'repl' }), /nope is not defined/);
  });

  it('stepOut runs until the requested key the task belongs to is done', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { keys: ['add-1', 'total'], stopOnEntry: true });
    assert.equal((await stopped).key, 'double-1');
    assert.equal((await step(dc, 'stepOut')).key, 'add-2');
  });

  it('Step Into asks the client to attach the JavaScript debugger to the runner', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {}, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-1' }] }));
    await stopped;
    const next = stoppedAt(dc);
    await dc.stepInRequest({ threadId: 1 });
    assert.equal((await next).key, 'add-2');
    assert.equal(reverse.length, 1, output());
    assert.equal(reverse[0]!.command, 'startDebugging');
    const configuration = reverse[0]!.arguments.configuration as Record<string, unknown>;
    assert.equal(reverse[0]!.arguments.request, 'attach');
    assert.equal(configuration.type, 'node');
    assert.equal(configuration.request, 'attach');
    assert.equal(configuration.name, 'Skein task add-1');
    assert.equal(configuration.address, '127.0.0.1');
    assert.ok(Number.isInteger(configuration.port) && (configuration.port as number) > 0);
  });

  it('Step Back returns to before the task that ran last; stepping forward runs it again', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true, keys: ['total'] });
    assert.equal((await stopped).key, 'double-1');
    // nothing before the first task
    await assert.rejects(dc.customRequest('stepBack', { threadId: 1 }), { message: 'Step Back: "double-1" is the first task of the run; there is nothing before it.' });
    assert.equal((await step(dc, 'next')).key, 'add-1');
    assert.equal((await step(dc, 'next')).key, 'add-2');
    assert.equal((await step(dc, 'next')).key, 'total');
    const back = stoppedAt(dc);
    await dc.stepBackRequest({ threadId: 1 });
    const b = await back;
    assert.deepEqual([b.key, b.reason, b.body.description], ['add-2', 'step', 'Paused before task "add-2" (stepped back)']);
    // the state as it was then: add-1 done, add-2 about to run with its inputs
    assert.deepEqual((await taskScope(dc)).inputs, { a: '42', b: '2' });
    const back2 = stoppedAt(dc);
    await dc.stepBackRequest({ threadId: 1 });
    assert.equal((await back2).key, 'add-1');
    const before = output();
    assert.equal((await step(dc, 'next')).key, 'add-2');
    assert.equal((await step(dc, 'next')).key, 'total');
    // add-1 ran again going forward (it prints); double-1, replayed from what was kept, did not
    assert.deepEqual(output().slice(before.length).match(/\[add-\d\] adding \d+ and \d+/g), ['[add-1] adding 42 and 1', '[add-2] adding 42 and 2']);
    const exited = dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
    assert.match(output(), /\ntotal: 87\n/);
  });

  it('Reverse Continue goes back to the previous breakpoint stop, then to the first task', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { keys: ['total'] }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'add-*' }] }));
    assert.equal((await stopped).key, 'add-1');
    assert.equal((await step(dc, 'continue')).key, 'add-2');
    assert.equal((await step(dc, 'next')).key, 'total');
    const reverse = async () => {
      const s = stoppedAt(dc);
      await dc.reverseContinueRequest({ threadId: 1 });
      return s;
    };
    const r1 = await reverse();
    assert.deepEqual([r1.key, r1.reason, r1.body.description], ['add-2', 'breakpoint', 'Paused before task "add-2" (reverse continue)']);
    assert.equal((await reverse()).key, 'add-1');
    assert.equal((await reverse()).key, 'double-1');
    // forward again: the breakpoints stop as before
    assert.equal((await step(dc, 'continue')).key, 'add-1');
  });

  it('Step Back keeps results up to stepBackMemory: past it, it says how far back it can go', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true, keys: ['total'], stepBackMemory: 0 });
    assert.equal((await stopped).key, 'double-1');
    for (const k of ['add-1', 'add-2', 'total']) assert.equal((await step(dc, 'next')).key, k);
    const back = stoppedAt(dc);
    await dc.stepBackRequest({ threadId: 1 });
    assert.equal((await back).key, 'add-2');
    await assert.rejects(dc.stepBackRequest({ threadId: 1 }), {
      message: 'Step Back cannot go back further than just before "add-2": the results kept for going back are capped at 0 MB (the skein.debug.stepBackMemory setting), and older ones were dropped. Raise the setting to keep more.',
    });
    // still paused where it was, and it goes on
    assert.equal((await step(dc, 'next')).key, 'total');
  });

  it('Restart Frame is offered only once the task ran: refused, saying why, at an ordinary pause', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true, keys: ['total'] });
    assert.equal((await stopped).key, 'double-1');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.equal(st.body.stackFrames[0]!.canRestart, false);
    await assert.rejects(dc.restartFrameRequest({ frameId: 1 }), {
      message: 'Restart Frame runs a task again after it ran (at its error, or at a result breakpoint); "double-1" has not run yet: Step Over runs it.',
    });
    // nothing moved: the next step is the next task
    assert.equal((await step(dc, 'next')).key, 'add-1');
  });

  it("a task error pauses on the line that threw, and its stack shows the user's frames only", async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, {});
    assert.equal((await stopped).key, 'check');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const top = st.body.stackFrames[0]!;
    assert.deepEqual([top.source?.path, top.line, top.canRestart], [program, line('throw new RangeError'), true]);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    const trace = info.body.details!.stackTrace!;
    assert.doesNotMatch(trace, /dist\/runtime|\/runtime\/(core|debug|runner)\/|node:internal/);
    assert.match(trace, /^RangeError: value 87 is too large\n {4}at check \(/);
    assert.match(trace, /\n {4}\(\d+ frames? of Skein and Node hidden; the whole stack is in the Debug Console\)$/);
    assert.match(output(), /Task "check" failed:\nRangeError: value 87 is too large\n {4}at check [\s\S]*runtime\/debug\/controller/);
  });

  it('calls task functions as plain functions: `this` is undefined, as run or with edited inputs', async () => {
    const receiver = join(root, 'test/data/receiver.graph.ts');
    const stopped = stoppedAt(dc);
    await launch(dc, { program: receiver, stopOnEntry: true });
    assert.equal((await stopped).key, 'r');
    const { inputsRef } = await taskScope(dc);
    await dc.setVariableRequest({ variablesReference: inputsRef, name: 'x', value: '5' });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    await exited;
    assert.match(output(), /\nr: 'undefined 5'\n/);
  });

  it('disconnect kills the runner: no process is left', async () => {
    const stopped = stoppedAt(dc);
    await launch(dc, { stopOnEntry: true });
    await stopped;
    const scopes = await dc.scopesRequest({ frameId: 1 });
    const pid = Number((await dc.evaluateRequest({ expression: 'process.pid', context: 'repl' })).body.result);
    assert.ok(pid > 0 && scopes.body.scopes.length === 3);
    await dc.disconnectRequest({});
    // polled until a deadline, not slept on: gone as soon as it is gone, and never flaky under load
    const gone = (): boolean => {
      try {
        process.kill(pid, 0);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    };
    for (const deadline = Date.now() + 5000; !gone() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.ok(gone(), `runner ${pid} is gone`);
  });
});
