// 50 computes on the default pool, then nothing: the process must end by itself, promptly.
// Prints {lastComputeAt, workers}: the clock when the last compute resolved, and the worker
// process ids seen (for the processes scheduler), for the test to check they are gone.
import { execFileSync } from 'node:child_process';
import { get } from 'skein';
import { inc, sum } from './ops.mjs';

const scheduler = process.argv[2] ?? 'threads';
let total = 0;
for (let i = 0; i < 50; i++) {
  const graph = { a: [inc, i], b: [inc, 'a'], c: [sum, 'a', 'b'] };
  total += await get(graph, 'c', { scheduler, numWorkers: 2 });
}
const lastComputeAt = performance.timeOrigin + performance.now();
const ps = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
const workers = ps.split('\n').filter((l) => l.includes('processWorker')).map((l) => Number(l.trim().split(' ')[0]));
process.stdout.write(`${JSON.stringify({ total, lastComputeAt, workers })}\n`);
