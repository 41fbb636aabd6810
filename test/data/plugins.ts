// Plugins for the distributed plugin tests: exported classes, so workers and the scheduler can
// make them again by module URL and export name. What they see goes to a log in the process they
// run in, read back with client.run / client.runOnScheduler (or, for teardown, to a file).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PluginScheduler, type PluginWorker, SchedulerPlugin, WorkerPlugin } from 'skein/distributed';

const logs = ((globalThis as { __skeinTestPluginLog?: string[] }).__skeinTestPluginLog ??= []);

/** This process's plugin log (for client.run and runOnScheduler). */
export function pluginLog(): string[] {
  return [...logs];
}

export class Recorder extends WorkerPlugin {
  constructor(readonly label: string) {
    super();
  }
  override setup(worker: PluginWorker): void {
    logs.push(`${this.label} setup on ${worker.name} (${worker.nthreads} thread)`);
  }
  override transition(key: string, from: string, to: string): void {
    logs.push(`${this.label} ${key}: ${from} > ${to}`);
  }
}

export class SlowSetup extends WorkerPlugin {
  override async setup(worker: PluginWorker): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    logs.push(`slow setup done on ${worker.name}`);
  }
  override transition(key: string, from: string, to: string): void {
    logs.push(`slow saw ${key}: ${from} > ${to}`);
  }
}

export class NoDatabase extends WorkerPlugin {
  override setup(): void {
    throw new Error('cannot reach the database at db:5432');
  }
}

/** Writes `<dir>/<worker>-teardown` when torn down, so a test sees it after the worker is gone. */
export class MarksTeardown extends WorkerPlugin {
  constructor(readonly dir: string) {
    super();
    this.name = 'marks-teardown';
  }
  override teardown(worker: PluginWorker): void {
    writeFileSync(join(this.dir, `${worker.name}-teardown`), worker.keys().length >= 0 ? 'done' : '');
  }
}

export class Audit extends SchedulerPlugin {
  override start(scheduler: PluginScheduler): void {
    logs.push(`audit started with ${Object.keys(scheduler.workers()).length} workers`);
  }
  override transition(key: string, from: string, to: string): void {
    if (key.startsWith('audited-')) logs.push(`audit ${key}: ${from} > ${to}`);
  }
  override addWorker(scheduler: PluginScheduler, worker: string): void {
    logs.push(`audit worker joined: ${scheduler.workers()[worker]?.name}`);
  }
  override removeWorker(_scheduler: PluginScheduler, worker: string): void {
    logs.push(`audit worker left: ${worker.startsWith('tcp://') ? 'tcp' : worker}`);
  }
  override updateGraph(_scheduler: PluginScheduler, update: { client: string; keys: readonly string[] }): void {
    logs.push(`audit graph: ${update.keys.filter((k) => k.startsWith('audited-')).join(',')}`);
  }
  override close(): void {
    logs.push('audit closed');
  }
}

export class StartFails extends SchedulerPlugin {
  override start(): void {
    throw new TypeError('no audit table');
  }
}

/** Fails on any worker not named in `known` (one that joins later). */
export class OnlyOn extends WorkerPlugin {
  constructor(readonly known: string[]) {
    super();
  }
  override setup(worker: PluginWorker): void {
    if (!this.known.includes(worker.name)) throw new Error(`${worker.name} has no GPU`);
  }
}
