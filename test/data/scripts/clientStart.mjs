// A distributed client as a script uses it, watched from inside: prints one JSON line with what
// happened while its cluster started. V8's inspector is unusable here: `inc` is found from this
// script's imports. Usage: node clientStart.mjs
import inspector from 'node:inspector';
import { Client } from 'skein/distributed';
import { inc } from '../ops.mjs';

inspector.Session.prototype.connect = () => {
  throw new Error('the inspector was used to locate a task function');
};

// closed while its workers boot: nothing to report, nothing left
const early = new Client({ setAsDefault: false, nWorkers: 2 });
await early.close();

const client = new Client({ nWorkers: 1, threadsPerWorker: 1 });
let ready = false;
void client.ready.then(() => (ready = true));
const future = client.submit(inc, 41);
// how many workers the scheduler had when the task reached it
let workersAtSubmit = -1;
let readyAtSubmit;
while (workersAtSubmit < 0) {
  await new Promise((resolve) => setImmediate(resolve));
  if (client.cluster?.scheduler.state.tasks.has(future.key)) {
    workersAtSubmit = client.cluster.scheduler.state.workers.size;
    readyAtSubmit = ready;
  }
}
const value = await future;
const story = (await client.story(future.key)).map((t) => `${t.from}→${t.to}`);
const pids = [client.cluster.nannyPid, ...client.cluster.workerPids.values()];
await client.close();
console.log(JSON.stringify({ readyAtSubmit, workersAtSubmit, value, story, pids }));
