/**
 * `skein scheduler` and `skein worker`: the pieces of a cluster started by hand. Both run until
 * Ctrl-C or SIGTERM, then close what they started.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { socketTransport } from './comm.js';
import { memoryThresholds, parseMemoryLimit, profileInterval, startDashboard } from './cluster.js';
import { Scheduler } from './scheduler.js';
import { defaultSecretFile, newSecret, readSecret, writeSecret } from './secret.js';
import { superviseWorker } from './supervise.js';

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function startSchedulerCommand(opts: { port: number; host: string; secretFile?: string; dashboardAddress?: string; dashboard?: boolean; dashboardToken?: string }): Promise<void> {
  const secret = newSecret();
  const scheduler = new Scheduler({ listen: `tcp://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`, transport: socketTransport(secret) });
  await scheduler.start();
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  try {
    dashboard = await startDashboard(scheduler, { dashboardAddress: opts.dashboard === false ? null : opts.dashboardAddress, dashboardToken: opts.dashboardToken });
  } catch (error) {
    await scheduler.close();
    throw error;
  }
  const address = scheduler.address;
  const secretFile = opts.secretFile ?? defaultSecretFile(address);
  writeSecret(secretFile, secret);
  process.stderr.write(`skein scheduler at ${address}\n  secret in ${secretFile} (readable by you only)\n  start workers:  skein worker ${address}\n  connect:        new Client('${address}')\n${dashboard ? `  dashboard:      ${dashboard.link}\n` : ''}`);
  await untilStopped();
  await dashboard?.close();
  await scheduler.close();
  rmSync(secretFile, { force: true });
}

export async function startWorkerCommand(address: string, opts: { nthreads: number; memoryLimit?: string; name?: string; secretFile?: string; profile?: boolean | string }): Promise<void> {
  const secret = readSecret(opts.secretFile ?? defaultSecretFile(address), address);
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const memoryLimit = parseMemoryLimit(opts.memoryLimit === '0' ? null : opts.memoryLimit, 1);
  const profileIntervalMs = profileInterval(typeof opts.profile === 'string' ? Number(opts.profile) : opts.profile);
  const supervised = superviseWorker(
    { name, nthreads: opts.nthreads, profiled: profileIntervalMs !== null },
    {
      started: (pid) => process.stderr.write(`skein worker ${name} (pid ${pid}) joined ${address}\n`),
      died: (pid, code, signal) => process.stderr.write(`skein worker ${name} (pid ${pid}) died (${signal ?? `exit code ${code}`}); starting it again\n`),
    },
  );
  supervised.configure({ op: 'start', scheduler: address, secret, name, nthreads: opts.nthreads, memoryLimit, memory: memoryThresholds(), profileIntervalMs });
  await untilStopped();
  await supervised.stop();
}
