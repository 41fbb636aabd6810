// A script busy in a long task on the default pool, to be interrupted: its workers must go too.
// Usage: node longTask.mjs <scheduler>; prints the worker pids, then computes for 20 s.
import { execFileSync } from 'node:child_process';
import { get } from 'skein';
import { inc, spin } from './tasks.mjs';

const scheduler = process.argv[2] ?? 'processes';
await get({ a: [inc, 1], b: [inc, 2] }, ['a', 'b'], { scheduler, numWorkers: 2 });
const ps = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
console.log(JSON.stringify(ps.split('\n').filter((l) => l.includes('processWorker')).map((l) => Number(l.trim().split(' ')[0]))));
await get({ x: [spin, 20_000], y: [spin, 20_000] }, ['x', 'y'], { scheduler, numWorkers: 2 });
