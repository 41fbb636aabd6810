// A minimal debugger for `skein debug`: attaches to the inspector at the URL given, lets the
// program run, and at each pause records the top frame; at the first pause it reads the
// task's inputs, then steps into until it leaves Skein's wrapper, and resumes there. Prints one
// JSON line with what it saw.
// Usage: node --experimental-websocket attachDebugger.mjs ws://127.0.0.1:PORT/ID
const socket = new WebSocket(process.argv[2]);
let id = 0;
const replies = new Map();
const pauses = [];
const scripts = new Map();
const call = (method, params = {}) =>
  new Promise((resolve) => {
    replies.set(++id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });

socket.addEventListener('message', async (event) => {
  const message = JSON.parse(event.data);
  if (message.id !== undefined) return replies.get(message.id)?.(message.result ?? message.error);
  if (message.method === 'Debugger.scriptParsed') return scripts.set(message.params.scriptId, message.params.url);
  if (message.method !== 'Debugger.paused') return;
  const frame = message.params.callFrames[0];
  const seen = { function: frame.functionName, url: scripts.get(frame.location.scriptId), line: frame.location.lineNumber + 1 };
  pauses.push(seen);
  if (pauses.length === 1) {
    const task = await call('Debugger.evaluateOnCallFrame', { callFrameId: frame.callFrameId, expression: 'JSON.stringify({ key: failedTask.key, fn: failedTask.fn.name, inputs: failedTask.inputs })' });
    seen.task = JSON.parse(task.result.value);
  }
  if (frame.functionName === 'skeinDebugTask' && pauses.length < 5) await call('Debugger.stepInto');
  else await call('Debugger.resume');
});
socket.addEventListener('open', async () => {
  await call('Runtime.enable');
  await call('Debugger.enable');
  await call('Runtime.runIfWaitingForDebugger');
});
socket.addEventListener('close', () => {
  console.log(JSON.stringify(pauses));
});
