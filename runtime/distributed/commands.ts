/**
 * `skein scheduler` and `skein worker`: the pieces of a cluster started by hand. Both run until
 * Ctrl-C or SIGTERM, then close what they started.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { overNats } from './comm.js';
import { memoryThresholds, parseMemoryLimit, profileInterval, startDashboard } from './cluster.js';
import { Scheduler } from './scheduler.js';
import { defaultSecretFile, newSecret, readSecret, writeSecret } from './secret.js';
import { superviseWorker } from './supervise.js';
import { schedulerListen } from './jobCluster.js';
import { shownAddress } from './natsComm.js';

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function startSchedulerCommand(opts: { port: number; host: string; secretFile?: string; dashboardAddress?: string; dashboard?: boolean; dashboardToken?: string; nats?: string }): Promise<void> {
  // over NATS, NATS's credentials are the gate (workers elsewhere cannot read a secret file here)
  const secret = opts.nats === undefined ? newSecret() : '';
  const scheduler = new Scheduler(schedulerListen(opts, secret));
  await scheduler.start();
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  try {
    dashboard = await startDashboard(scheduler, { dashboardAddress: opts.dashboard === false ? null : opts.dashboardAddress, dashboardToken: opts.dashboardToken });
  } catch (error) {
    await scheduler.close();
    throw error;
  }
  scheduler.dashboardLink = dashboard?.link;
  const address = scheduler.address;
  const secretFile = opts.nats === undefined ? (opts.secretFile ?? defaultSecretFile(address)) : undefined;
  if (secretFile !== undefined) writeSecret(secretFile, secret);
  const join = opts.nats === undefined ? `skein worker ${address}` : `skein worker --nats ${address}`;
  process.stderr.write(
    `skein scheduler at ${address}\n${secretFile === undefined ? '  through NATS: workers and clients anywhere that reach it (with its credentials)\n' : `  secret in ${secretFile} (readable by you only)\n`}  start workers:  ${join}\n  connect:        new Client('${address}')\n${dashboard ? `  dashboard:      ${dashboard.link}\n` : ''}`,
  );
  await untilStopped();
  await dashboard?.close();
  await scheduler.close();
  if (secretFile !== undefined) rmSync(secretFile, { force: true });
}

export async function startWorkerCommand(address: string, opts: { nthreads: number; memoryLimit?: string; name?: string; secretFile?: string; profile?: boolean | string }): Promise<void> {
  const secret = overNats(address) && opts.secretFile === undefined ? '' : readSecret(opts.secretFile ?? defaultSecretFile(address), address);
  const shown = shownAddress(address);
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const memoryLimit = parseMemoryLimit(opts.memoryLimit === '0' ? null : opts.memoryLimit, 1);
  const profileIntervalMs = profileInterval(typeof opts.profile === 'string' ? Number(opts.profile) : opts.profile);
  const supervised = superviseWorker(
    { name, nthreads: opts.nthreads, profiled: profileIntervalMs !== null },
    {
      started: (pid) => process.stderr.write(`skein worker ${name} (pid ${pid}) joined ${shown}\n`),
      died: (pid, code, signal) => process.stderr.write(`skein worker ${name} (pid ${pid}) died (${signal ?? `exit code ${code}`}); starting it again\n`),
      // it said why; nothing to start again
      refused: () => process.exit(1),
    },
  );
  supervised.configure({ op: 'start', scheduler: address, secret, name, nthreads: opts.nthreads, memoryLimit, memory: memoryThresholds(), profileIntervalMs });
  await untilStopped();
  await supervised.stop();
}
