// Worker and scheduler plugins, and uploaded modules, on a cluster of real worker processes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client, WorkerPlugin } from 'skein/distributed';
import { inc } from '../data/ops.js';
import { Audit, MarksTeardown, NoDatabase, OnlyOn, Recorder, SlowSetup, StartFails, pluginLog } from '../data/plugins.js';
import { until } from '../until.js';

/** Each worker's plugin log, by worker name. */
async function logsByName(client: Client): Promise<Record<string, string[]>> {
  const info = await client.schedulerInfo();
  const logs = await client.run(pluginLog);
  return Object.fromEntries(Object.entries(logs).map(([address, log]) => [info.workers[address]!.name, log]));
}

describe('distributed plugins', () => {
  let client: Client;
  before(async () => {
    client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
    await client.ready;
  });
  after(async () => {
    await client.close();
  });
  /** The workers' names now (scaling down retires the idlest, whichever it is). */
  const names = async () => Object.values((await client.schedulerInfo()).workers).map((w) => w.name).sort();

  it('a worker plugin is set up on every worker and hears each transition of the tasks there', { timeout: 60_000 }, async () => {
    assert.equal(await client.registerPlugin(new Recorder('rec')), 'Recorder');
    const f = client.options({ key: 'plug-1', workers: ['worker-0'] }).submit(inc, 1);
    assert.equal(await f.result(), 2);
    f.release();
    const logs = await until('worker-0 to release plug-1', async () => {
      const l = await logsByName(client);
      return l['worker-0']!.includes('rec plug-1: memory > released') ? l : undefined;
    });
    assert.deepEqual(logs['worker-0']!.filter((l) => l.startsWith('rec setup') || l.startsWith('rec plug-1')), [
      'rec setup on worker-0 (1 thread)',
      'rec plug-1: released > waiting',
      'rec plug-1: waiting > ready',
      'rec plug-1: ready > executing',
      'rec plug-1: executing > memory',
      'rec plug-1: memory > released',
    ]);
    assert.deepEqual(logs['worker-1'], ['rec setup on worker-1 (1 thread)']);
    const info = await client.schedulerInfo();
    for (const w of Object.values(info.workers)) assert.deepEqual(w.plugins, { Recorder: { ok: true } });
  });

  it('a worker that joins later sets the plugins up before it starts a task', { timeout: 60_000 }, async () => {
    await client.registerPlugin(new SlowSetup());
    await client.cluster!.scale(3);
    const f = client.options({ key: 'on-new-worker', workers: ['worker-2'] }).submit(inc, 10);
    assert.equal(await f.result(), 11);
    const log = (await logsByName(client))['worker-2']!;
    assert.equal(log[0], 'rec setup on worker-2 (1 thread)');
    const setUp = log.indexOf('slow setup done on worker-2');
    // the task reached the worker while it set its plugins up: it waited, unstarted, until they were
    const started = log.findIndex((l) => /^rec on-new-worker: \w+ > executing$/.test(l));
    assert.ok(setUp > 0 && started > setUp, log.join('\n'));
    assert.ok(log.includes('slow saw on-new-worker: executing > memory'), log.join('\n'));
    const info = await client.schedulerInfo();
    const w2 = Object.values(info.workers).find((w) => w.name === 'worker-2')!;
    assert.deepEqual(w2.plugins, { Recorder: { ok: true }, SlowSetup: { ok: true } });
    await client.cluster!.scale(2);
    await client.unregisterPlugin('SlowSetup');
    await client.unregisterPlugin('Recorder');
  });

  it('a setup that throws rejects registerPlugin naming the plugin and the workers; nothing is kept', async () => {
    await assert.rejects(client.registerPlugin(new NoDatabase()), {
      message: `Worker plugin "NoDatabase" failed in setup on ${(await names()).join(', ')}: cannot reach the database at db:5432`,
    });
    const info = await client.schedulerInfo();
    for (const w of Object.values(info.workers)) assert.deepEqual(w.plugins, {});
    assert.equal(await client.submit(inc, 41).result(), 42);
    await assert.rejects(client.unregisterPlugin('NoDatabase'), { message: 'unregisterPlugin: no plugin named "NoDatabase" is registered (registered: none).' });
  });

  it('teardown runs when a plugin is unregistered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-plugin-test-'));
    try {
      assert.equal(await client.registerPlugin(new MarksTeardown(dir)), 'marks-teardown');
      assert.deepEqual(readdirSync(dir), []);
      await client.unregisterPlugin('marks-teardown');
      assert.deepEqual(readdirSync(dir).sort(), (await names()).map((n) => `${n}-teardown`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker that joins later and fails a setup says so: on the scheduler\'s stderr and in schedulerInfo', { timeout: 60_000 }, async () => {
    const known = await names();
    await client.registerPlugin(new OnlyOn(known));
    await client.cluster!.scale(3);
    const info = await until('the new worker to report its setup', async () => {
      const i = await client.schedulerInfo();
      const fresh = Object.values(i.workers).find((w) => !known.includes(w.name));
      return fresh !== undefined && 'OnlyOn' in fresh.plugins ? i : undefined;
    });
    for (const w of Object.values(info.workers)) {
      assert.deepEqual(w.plugins, known.includes(w.name) ? { OnlyOn: { ok: true } } : { OnlyOn: { ok: false, error: `plugin "OnlyOn" failed in setup: ${w.name} has no GPU` } });
    }
    // it still works: a worker is not refused for a plugin
    const fresh = Object.values(info.workers).find((w) => !known.includes(w.name))!;
    assert.equal(await client.options({ workers: [fresh.name] }).submit(inc, 1).result(), 2);
    await client.unregisterPlugin('OnlyOn');
    await client.cluster!.scale(2);
  });

  it('a scheduler plugin hears start, graphs, transitions, workers joining and leaving, and close', { timeout: 60_000 }, async () => {
    await client.registerPlugin(new Audit());
    assert.equal(await client.options({ key: 'audited-1' }).submit(inc, 1).result(), 2);
    const before = await names();
    await client.cluster!.scale(3);
    const [joined] = (await names()).filter((n) => !before.includes(n));
    await client.cluster!.scale(2);
    await client.unregisterPlugin('Audit');
    const log = (await client.runOnScheduler(pluginLog)).filter((l) => l.startsWith('audit'));
    const story = (await client.story('audited-1')).map((e) => `audit audited-1: ${e.from} > ${e.to}`);
    assert.ok(story.length >= 3, story.join('\n'));
    assert.deepEqual(log, ['audit started with 2 workers', 'audit graph: audited-1', ...story, `audit worker joined: ${joined}`, 'audit worker left: tcp', 'audit closed']);
  });

  it('a scheduler plugin whose start throws is refused with its name; plugins that cannot travel are refused before', async () => {
    await assert.rejects(client.registerPlugin(new StartFails()), { message: 'Scheduler plugin "StartFails" failed in start: no audit table' });
    await assert.rejects(client.registerPlugin({ setup() {} } as WorkerPlugin), {
      name: 'TypeError',
      message: 'registerPlugin: pass an instance of an exported class that extends WorkerPlugin or SchedulerPlugin (import { WorkerPlugin } from "skein/distributed"); got a plain object.',
    });
    class NotExported extends WorkerPlugin {
      override setup(): void {}
    }
    await assert.rejects(client.registerPlugin(new NotExported()), {
      name: 'TypeError',
      message:
        'registerPlugin: plugin "NotExported" cannot be sent: its class NotExported is not exported from any module, and workers and the scheduler make plugins again by module and export name, as they load task functions. Export the class from a module (export class NotExported extends …) and import it from there.',
    });
  });
});

describe('worker plugins at close', () => {
  it('teardown runs on every worker as the cluster closes', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-plugin-test-'));
    const client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
    try {
      await client.ready;
      await client.registerPlugin(new MarksTeardown(dir));
      assert.deepEqual(readdirSync(dir), []);
      await client.close();
      assert.deepEqual(readdirSync(dir).sort(), ['worker-0-teardown', 'worker-1-teardown']);
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('client.uploadFile', () => {
  it('a script that uploads a module and ends without close leaves no worker folder behind', { timeout: 60_000 }, async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['test/data/scripts/uploadNoClose.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    const folders = out.trim().split('\n');
    assert.equal(folders.length, 2, out);
    // its workers end when the script's process is gone (their supervisor with it): give them a moment
    await until('the workers to remove their folders', () => (folders.every((f) => !existsSync(f)) ? true : undefined), 10_000);
  });

  it('sends a TypeScript module (and what it imports) to every worker, now and later; uploading it again replaces it', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-upload-test-'));
    const client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null, setAsDefault: false });
    try {
      const write = (version: string) => {
        writeFileSync(join(dir, 'version.ts'), `export const VERSION: string = '${version}';\n`);
        writeFileSync(join(dir, 'helpers.ts'), `import { VERSION } from './version.js';\nexport function label(x: number): string {\n  return \`\${VERSION}:\${x}\`;\n}\n`);
      };
      write('v1');
      const helpers = (await import(pathToFileURL(join(dir, 'helpers.ts')).href)) as { label: (x: number) => string };
      await client.uploadFile(join(dir, 'helpers.ts'));
      assert.deepEqual(await client.gather(client.map(helpers.label, [1, 2])), ['v1:1', 'v1:2']);
      // edited and uploaded again: the workers' threads import the new copy, no restart
      write('v2');
      await client.uploadFile(join(dir, 'helpers.ts'));
      assert.deepEqual(await client.gather(client.map(helpers.label, [3, 4])), ['v2:3', 'v2:4']);
      assert.equal(helpers.label(0), 'v1:0', 'the client keeps the module it imported');
      await client.cluster!.scale(3);
      assert.equal(await client.options({ workers: ['worker-2'] }).submit(helpers.label, 5).result(), 'v2:5');
      const info = await client.schedulerInfo();
      const folders = Object.values(info.workers).map((w) => join(tmpdir(), `skein-worker-${w.name}-${w.pid}`));
      for (const folder of folders) assert.ok(existsSync(folder), folder);
      await client.close();
      for (const folder of folders) assert.ok(!existsSync(folder), `${folder} is left`);
      await assert.rejects(new Client({ nWorkers: 1, dashboardAddress: null, setAsDefault: false }).uploadFile(join(dir, 'missing.ts')), { message: `uploadFile: ${join(dir, 'missing.ts')} does not exist.` });
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
