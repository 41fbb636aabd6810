// Configuration precedence: defaults < files < environment < config.set < withConfig < per call.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { config, get, withConfig, type Callback } from 'skein';
import { envName, layerFromEnv } from '../../runtime/core/config.js';
import { inc } from '../data/ops.js';

const home = mkdtempSync(join(tmpdir(), 'skein-config-'));
const work = mkdtempSync(join(tmpdir(), 'skein-cwd-'));
process.env.HOME = home;
delete process.env.XDG_CONFIG_HOME;
process.chdir(work);

function clearEnv(): void {
  for (const name of Object.keys(process.env)) if (name.startsWith('SKEIN_')) delete process.env[name];
}

function sources(): Record<string, string> {
  return Object.fromEntries(config.explain().map((r) => [r.key, `${JSON.stringify(r.value)} @ ${r.source}`]));
}

describe('config', () => {
  beforeEach(() => {
    clearEnv();
    rmSync(join(home, '.config'), { recursive: true, force: true });
    rmSync(join(work, 'skein.config.json'), { force: true });
    rmSync(join(work, 'skein.config.yaml'), { force: true });
    config.refresh();
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('has documented defaults', () => {
    assert.equal(config.get('scheduler'), 'threads');
    assert.equal(config.get('numWorkers'), null);
    assert.equal(config.get('batching.maxTasks'), 512);
    assert.equal(sources().scheduler, '"threads" @ default');
  });

  it('applies each layer over the one below, and says where each value came from', () => {
    mkdirSync(join(home, '.config', 'skein'), { recursive: true });
    writeFileSync(join(home, '.config', 'skein', 'a.yaml'), 'scheduler: processes\nnumWorkers: 3\nbatching:\n  maxTasks: 64\n');
    writeFileSync(join(work, 'skein.config.json'), JSON.stringify({ numWorkers: 5, taskTimeoutMs: 1000 }));
    process.env.SKEIN_TASK_TIMEOUT_MS = '2000';
    process.env.SKEIN_BATCHING__TARGET_MS = '9';
    config.refresh();
    assert.deepEqual(
      { s: sources().scheduler, n: sources().numWorkers, t: sources().taskTimeoutMs, m: sources()['batching.maxTasks'], g: sources()['batching.targetMs'] },
      {
        s: `"processes" @ ${join(home, '.config', 'skein', 'a.yaml')}`,
        n: `5 @ ${join(work, 'skein.config.json')}`,
        t: '2000 @ environment',
        m: `64 @ ${join(home, '.config', 'skein', 'a.yaml')}`,
        g: '9 @ environment',
      },
    );
    const handle = config.set({ numWorkers: 7 });
    assert.equal(sources().numWorkers, '7 @ config.set()');
    withConfig({ numWorkers: 8 }, () => assert.equal(sources().numWorkers, '8 @ withConfig()'));
    handle.dispose();
    assert.equal(config.get('numWorkers'), 5);
  });

  it('scopes config.set with `using`', () => {
    {
      using _ = config.set({ scheduler: 'sync' });
      assert.equal(config.get('scheduler'), 'sync');
    }
    assert.equal(config.get('scheduler'), 'threads');
  });

  it('keeps withConfig values across awaits and apart between concurrent calls', async () => {
    const seen: string[] = [];
    const job = (scheduler: 'sync' | 'processes', delay: number) =>
      withConfig({ scheduler }, async () => {
        await new Promise((r) => setTimeout(r, delay));
        seen.push(`${scheduler}:${config.get('scheduler')}`);
      });
    await Promise.all([job('sync', 20), job('processes', 5)]);
    assert.deepEqual(seen, ['processes:processes', 'sync:sync']);
    assert.equal(config.get('scheduler'), 'threads');
  });

  it('gives per-call options the last word', async () => {
    const events: string[] = [];
    const cb: Callback = { start: () => events.push('start') };
    using _ = config.set({ scheduler: 'processes' });
    await withConfig({ scheduler: 'processes' }, () => get({ x: [inc, 1] }, 'x', { scheduler: 'sync', callbacks: [cb] }));
    assert.deepEqual(events, ['start']);
  });

  it('accepts Dask scheduler aliases', () => {
    using _ = config.set({ scheduler: 'synchronous' });
    assert.equal(config.get('scheduler'), 'sync');
  });

  it('rejects unknown schedulers, keys and bad values, listing what is valid', () => {
    assert.throws(() => config.set({ scheduler: 'gpu' as 'sync' }), { message: 'Unknown scheduler "gpu"; valid schedulers: sync, threads, processes, distributed.' });
    assert.throws(() => config.set({ numWorker: 2 } as never), { message: /^Unknown config key "numWorker" from config\.set\(\)\. Did you mean "numWorkers"\? Valid keys: scheduler, numWorkers, / });
    assert.throws(() => config.set({ numWorkers: 0 }), { message: 'Bad value for config key "numWorkers" from config.set(): 0; expected an integer >= 1 or null.' });
    process.env.SKEIN_NUM_WORKERS = 'many';
    config.refresh();
    assert.throws(() => config.get('scheduler'), { message: 'Bad value for config key "numWorkers" from environment: "many"; expected an integer >= 1 or null.' });
  });

  it('ignores SKEIN_* variables that name no key, warning once with the closest variable', () => {
    const warnings: string[] = [];
    const layer = layerFromEnv({ SKEIN_FOO: '1', SKEIN_NUM_WORKER: '3', SKEIN_SCHEDULER: 'sync', PATH: '/bin' }, (m) => warnings.push(m));
    assert.deepEqual(layer?.values, { scheduler: 'sync' });
    assert.deepEqual(warnings, [
      'Ignoring the environment variable SKEIN_FOO: "foo" is not a Skein config key.',
      'Ignoring the environment variable SKEIN_NUM_WORKER: "numWorker" is not a Skein config key (did you mean SKEIN_NUM_WORKERS?).',
    ]);
    assert.equal(envName('batching.maxTasks'), 'SKEIN_BATCHING__MAX_TASKS');
    const r = spawnSync(process.execPath, ['bin/skein.js', 'run', 'examples/etl.graph.ts', '--scheduler', 'sync', '--keys', 'total'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, SKEIN_FOO: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Warning: Ignoring the environment variable SKEIN_FOO: "foo" is not a Skein config key\.\n/);
  });

  it('does not take names inherited from Object.prototype as keys or schedulers', () => {
    assert.throws(() => config.set({ scheduler: 'toString' as 'sync' }), { message: 'Unknown scheduler "toString"; valid schedulers: sync, threads, processes, distributed.' });
    assert.throws(() => config.set({ constructor: 1 } as never), { message: /^Unknown config key "constructor" from config\.set\(\)\./ });
  });

  it('rejects a broken config file, naming it', () => {
    writeFileSync(join(work, 'skein.config.json'), '{"scheduler": ');
    config.refresh();
    assert.throws(() => config.get('scheduler'), (e: unknown) => {
      assert.match(String((e as Error).message), new RegExp(`^Cannot read config file ${join(work, 'skein.config.json').replace(/[/.]/g, '\\$&')}: `));
      return true;
    });
  });

  it('rejects per-call values in get', async () => {
    await assert.rejects(get({ x: 1 }, 'x', { scheduler: 'nope' as 'sync' }), { message: 'Unknown scheduler "nope"; valid schedulers: sync, threads, processes, distributed.' });
  });
});
