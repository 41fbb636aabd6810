// `new Client()` to the first result, as a user's script does it: a file that imports Skein and
// its task functions, starts a client and computes a one-task graph. Prints the milliseconds
// from the script's start (before Skein loads) to the result.
import './start.mjs';
import { get } from 'skein';
import { Client } from 'skein/distributed';
import { inc } from '../shapes.mjs';

const client = new Client();
const y = await get({ x: 1, y: [inc, 'x'] }, 'y');
const ms = performance.now() - globalThis.scriptStart;
await client.close();
if (y !== 2) throw new Error(`wrong result ${y}`);
process.stdout.write(String(ms));
