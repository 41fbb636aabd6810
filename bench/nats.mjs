// `npm run bench`, NATS part: the distributed scheduler through NATS, as a cluster on many machines
// uses it, beside the local-sockets transport in the same run as the baseline. Each cluster is
// what a user starts by hand: `skein scheduler` and two `skein worker --nthreads 1` processes (the
// default LocalCluster's sizing on 2 cores), then `new Client(address)` and `client.get` on the
// four bench shapes (µs per task: the median of RUNS runs after WARMUP). Then, through a cluster of
// 3 nats-servers joined by routes (the scheduler on one, a worker on each of the others), the wide
// shape's throughput. Needs Debian's nats-server (node scripts/setup-tests.mjs --debian).
// Usage: node bench/nats.mjs [--runs N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'skein/distributed';
import * as shapes from './shapes.mjs';

const argv = process.argv.slice(2);
const RUNS = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 7;
const WARMUP = 2;
const SHAPES = ['wide', 'chain', 'tree', 'fan'];
const bin = fileURLToPath(new URL('../bin/skein.js', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status !== 0) {
  process.stdout.write('nats: not measured (nats-server is not installed: node scripts/setup-tests.mjs --debian)\n');
  process.exit(0);
}

const children = new Set();
const dirs = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts `command` and waits for `ready` on its stderr. */
function start(command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKEIN_'))) });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start: ${said}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}): ${said}`)));
    child.stderr.on('data', (d) => {
      said += d.toString();
      const m = ready.exec(said);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
  });
}

/** nats-servers: one, or a cluster of `n` joined by routes. Their client URLs. */
async function natsServers(n) {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const routes = n > 1 ? await Promise.all(Array.from({ length: n }, () => freePort())) : [];
  await Promise.all(
    ports.map((port, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'skein-bench-nats-'));
      dirs.add(dir);
      const cluster = n > 1 ? ['--server_name', `bench-${i}`, '--cluster_name', 'bench', '--cluster', `nats://127.0.0.1:${routes[i]}`, '--routes', routes.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`).join(',')] : [];
      return start('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...cluster], /Server is ready/);
    }),
  );
  if (n > 1) await new Promise((r) => setTimeout(r, 1500)); // the routes connect
  return ports.map((p) => `nats://127.0.0.1:${p}`);
}

/** A scheduler and two workers started as a user does; the scheduler's address, and a stop. */
async function cluster(schedulerArgs, workerAddresses) {
  const { child: scheduler, match } = await start(process.execPath, [bin, 'scheduler', ...schedulerArgs, '--no-dashboard'], /skein scheduler at (\S+)\n/);
  const address = match[1];
  const workers = [];
  for (const [i, at] of workerAddresses(address).entries()) {
    const args = at.startsWith('nats:') ? ['--nats', at] : [at];
    workers.push((await start(process.execPath, [bin, 'worker', ...args, '--nthreads', '1', '--name', `bench-${i}`], /joined/)).child);
  }
  return { address, stop: () => [...workers, scheduler].forEach((c) => c.kill('SIGINT')) };
}

async function shapeTimes(address) {
  const client = new Client({ address, setAsDefault: false });
  await client.ready;
  const out = {};
  for (const shape of SHAPES) {
    const samples = [];
    for (let r = 0; r < WARMUP + RUNS; r++) {
      const built = shapes[shape]();
      const t0 = performance.now();
      await client.get(built.graph, built.key);
      if (r >= WARMUP) samples.push(((performance.now() - t0) * 1000) / built.tasks);
    }
    out[shape] = { usPerTask: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
  }
  await client.close();
  return out;
}

/**
 * 2,000 tasks of 1 ms each (spin) and one that sums them: beyond a few per worker they wait in the
 * scheduler's queue, or over NATS in JetStream's shared work queue, claimed one by one. ms beyond
 * the ideal (2 s of work over 2 threads) per task.
 */
async function queued(address) {
  const client = new Client({ address, setAsDefault: false });
  await client.ready;
  const samples = [];
  for (let r = 0; r < WARMUP + RUNS; r++) {
    const g = {};
    for (let i = 0; i < QUEUED; i++) g[`spin-${r}-${i}`] = [shapes.spin, 1];
    g[`total-${r}`] = [shapes.sum, ...Object.keys(g)];
    const t0 = performance.now();
    await client.get(g, `total-${r}`);
    if (r >= WARMUP) samples.push((((performance.now() - t0) - QUEUED / 2) * 1000) / QUEUED);
  }
  await client.close();
  return median(samples);
}
const QUEUED = 2000;

async function throughput(address) {
  const client = new Client({ address, setAsDefault: false });
  await client.ready;
  const samples = [];
  for (let r = 0; r < WARMUP + RUNS; r++) {
    const built = shapes.wide();
    const t0 = performance.now();
    await client.get(built.graph, built.key);
    if (r >= WARMUP) samples.push(built.tasks / ((performance.now() - t0) / 1000));
  }
  await client.close();
  return median(samples);
}

const [single] = await natsServers(1);
const overNats = await cluster(['--nats', single], (address) => [address, address]);
const nats = await shapeTimes(single);
const natsQueued = await queued(single);
overNats.stop();

const overSockets = await cluster(['--port', '0'], (address) => [address, address]);
const sockets = await shapeTimes(overSockets.address);
const socketsQueued = await queued(overSockets.address);
overSockets.stop();

const three = await natsServers(3);
const spread = await cluster(['--nats', three[0]], () => [three[1], three[2]]);
const perSecond = await throughput(three[0]);
spread.stop();

for (const shape of SHAPES) {
  const n = nats[shape];
  const s = sockets[shape];
  process.stdout.write(`nats       ${shape.padEnd(6)} ${n.usPerTask.toFixed(1).padStart(7)} µs/task (min ${n.min.toFixed(1)}, max ${n.max.toFixed(1)})  one nats-server; target ≤ 500\n`);
  process.stdout.write(`baseline   ${shape.padEnd(6)} ${s.usPerTask.toFixed(1).padStart(7)} µs/task through local sockets (skein scheduler --port 0); ratio nats / sockets ${(n.usPerTask / s.usPerTask).toFixed(2)}x\n`);
}
process.stdout.write(`nats       queued ${natsQueued.toFixed(1).padStart(7)} µs/task beyond the work, ${QUEUED} tasks of 1 ms (JetStream's shared work queue, claimed one by one)\n`);
process.stdout.write(`baseline   queued ${socketsQueued.toFixed(1).padStart(7)} µs/task beyond the work, through local sockets (the scheduler's own queue); ratio ${(natsQueued / socketsQueued).toFixed(2)}x\n`);
process.stdout.write(`nats 3-server cluster (scheduler on one, a worker on each of the others): wide ${Math.round(perSecond).toLocaleString('en')} tasks/s\n`);
process.stdout.write(`\n${cpus().length} CPUs, ${availableParallelism()} available, Node ${process.version}; 2 workers x 1 thread, each cluster started with skein scheduler / skein worker; median of ${RUNS} runs after ${WARMUP}\n`);
process.exit(0);
