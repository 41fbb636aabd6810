// A script as the README suggests: task functions imported from a module of their own, a
// top-level await. V8's inspector is made unusable here, so the functions must be found from
// this script's own imports. Usage: node importsTasks.mjs scheduler
import inspector from 'node:inspector';
import { compute, delayed } from 'skein';
import { Client } from 'skein/distributed';
import { inc, sum } from '../ops.mjs';

inspector.Session.prototype.connect = () => {
  throw new Error('the inspector was used to locate a task function');
};
const scheduler = process.argv[2];
const client = scheduler === 'distributed' ? new Client() : undefined;
const total = delayed(sum)(delayed(inc)(1), delayed(inc)(2));
console.log(await compute(total, { scheduler }));
await client?.close();
