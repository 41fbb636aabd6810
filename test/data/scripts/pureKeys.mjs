// Pure keys of delayed calls, printed as JSON (or posted, in a worker thread): a module's
// function, one that uses an import, an inline lambda, and Sets built in two orders.
// Usage: node pureKeys.mjs [noise]   (noise: tokenize other functions first)
import { parentPort } from 'node:worker_threads';
import { delayed, tokenize } from 'skein';
import { inc } from '../ops.mjs';
import { twice } from '../capturing.mjs';

if (process.argv[2] === 'noise') for (let i = 0; i < 5; i++) tokenize([(y) => y * i, Math.max, inc]);
const keys = {
  inc: delayed(inc, { pure: true })(1).key,
  twice: delayed(twice, { pure: true })(1).key,
  lambda: delayed((x) => x + 1, { pure: true })(1).key,
  set: tokenize([new Set([1, 2, 'x'])]) === tokenize([new Set(['x', 2, 1])]),
};
if (parentPort !== null) parentPort.postMessage(keys);
else process.stdout.write(`${JSON.stringify(keys)}\n`);
