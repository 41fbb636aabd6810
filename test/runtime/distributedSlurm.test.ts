// SlurmCluster on a real single-node SLURM (Debian's slurmctld, slurmd and munge, started by the
// test as root in a temporary folder): two jobs submitted with sbatch join as workers, a graph
// runs on them, scaling down cancels one, close cancels the rest. Without root the SLURM daemons
// cannot run jobs: that part says so and skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, SlurmCluster } from 'skein/distributed';
import { inc } from '../data/ops.js';
import { type SlurmHost, startSlurm } from './slurmHost.js';
import { until } from '../until.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('SlurmCluster job scripts', () => {
  it('ask for one node with the job\'s cores, memory and walltime in a partition and account, and start skein worker with the scheduler\'s address', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'skein-slurm-shared-'));
    const secretFile = join(shared, 'skein.secret');
    const cluster = new SlurmCluster({ cores: 4, memory: '8GB', processes: 2, walltime: '01:30:00', queue: 'gpu', account: 'proj-7', jobName: 'skein-w', logDirectory: '/shared/logs', jobExtraDirectives: ['--qos=high'], jobScriptPrologue: ['module load nodejs/20'], host: '127.0.0.1', dashboardAddress: null, secretFile });
    try {
      await cluster.listening;
      const [node, skein] = [process.execPath, join(root, 'bin', 'skein.js')];
      const worker = (i: number) => `${node} ${skein} worker ${cluster.schedulerAddress} --secret-file ${secretFile} --nthreads 2 --memory-limit 4000000000 --name "slurm-\${SLURM_JOB_ID}-${i}" &`;
      assert.equal(
        cluster.jobScript(),
        [
          '#!/usr/bin/env bash',
          '#SBATCH --job-name=skein-w',
          '#SBATCH --partition=gpu',
          '#SBATCH --account=proj-7',
          '#SBATCH --nodes=1',
          '#SBATCH --ntasks=1',
          '#SBATCH --cpus-per-task=4',
          '#SBATCH --mem=7629M',
          '#SBATCH --time=01:30:00',
          '#SBATCH --output=/shared/logs/%x-%j.out',
          '#SBATCH --qos=high',
          '',
          'module load nodejs/20',
          "trap 'kill $(jobs -p) 2>/dev/null' TERM INT",
          worker(0),
          worker(1),
          'wait',
          '',
        ].join('\n'),
      );
      assert.equal(readFileSync(secretFile, 'utf8').trim(), cluster.secret);
    } finally {
      await cluster.close();
      rmSync(shared, { recursive: true, force: true });
    }
    assert.throws(() => new SlurmCluster({ cores: 2, memory: '1GB', walltime: '90 minutes' }), { message: `walltime must be as SLURM writes it ('00:30:00', '2:00:00', '1-00:00:00'); got "90 minutes"` });
    assert.throws(() => new SlurmCluster({ cores: 2, memory: '1GB', processes: 3 }), { message: 'processes must be a whole number from 1 to cores (2), got 3' });
  });
});

describe('SlurmCluster on a single-node SLURM', { skip: process.getuid?.() !== 0 ? 'slurmd runs jobs as their users: it needs root' : false }, () => {
  let slurm: SlurmHost;
  const before_ = process.env.SLURM_CONF;
  before(async () => {
    slurm = await startSlurm();
    process.env.SLURM_CONF = slurm.env.SLURM_CONF;
  });
  after(async () => {
    if (before_ === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = before_;
    await slurm?.stop();
  });

  const queued = (): string[] => slurm.run('squeue', ['-h', '-o', '%i %T']).split('\n').filter((l) => l.trim() !== '');

  it('scale({ jobs: 2 }): two sbatch jobs join as workers and compute; scaling down cancels one; close cancels the rest', async () => {
    const logs = join(slurm.dir, 'logs');
    const cluster = await SlurmCluster.start({ cores: 1, memory: '1GB', walltime: '00:10:00', queue: 'debug', host: '127.0.0.1', logDirectory: logs, dashboardAddress: null });
    let ids: string[] = [];
    try {
      await cluster.scale({ jobs: 2 });
      ids = cluster.jobs.map((j) => j.id);
      assert.equal(ids.length, 2);
      assert.deepEqual(queued().map((l) => l.split(' ')[0]).sort(), [...ids].sort());
      await cluster.waitForWorkers(2, 60_000);
      assert.deepEqual([...cluster.scheduler.state.workers.values()].map((w) => w.name).sort(), ids.map((id) => `slurm-${id}-0`).sort());
      const client = new Client(cluster);
      try {
        const futures = client.map(inc, [10, 20, 30, 40]);
        assert.deepEqual(await client.gather(futures), [11, 21, 31, 41]);
        await cluster.scale({ jobs: 1 });
        assert.equal(cluster.jobs.length, 1);
        await until('one job left in squeue', () => (queued().length === 1 ? true : undefined), 20_000);
        await until('one worker left', () => (cluster.scheduler.state.workers.size === 1 ? true : undefined), 20_000);
        // the retired worker's results were copied first
        assert.deepEqual(await client.gather(futures), [11, 21, 31, 41]);
      } finally {
        await client.close();
      }
    } finally {
      await cluster.close();
    }
    await until('no job left in squeue', () => (queued().length === 0 ? true : undefined), 20_000);
    // each job wrote where --output said, and its worker had joined
    for (const id of ids) {
      const out = join(logs, `skein-worker-${id}.out`);
      assert.ok(existsSync(out), out);
      assert.match(readFileSync(out, 'utf8'), new RegExp(`skein worker slurm-${id}-0 \\(pid \\d+\\) joined tcp://127\\.0\\.0\\.1:\\d+`));
    }
    const left = spawnSync('pgrep', ['-af', 'skein.js worker'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no worker process outlives its job');
  });

  it('adapt({ minimumJobs: 1, maximumJobs: 2 }) keeps one job with no work', async () => {
    const cluster = await SlurmCluster.start({ cores: 1, memory: '1GB', host: '127.0.0.1', logDirectory: join(slurm.dir, 'logs'), dashboardAddress: null });
    try {
      const adaptive = cluster.adapt({ minimumJobs: 1, maximumJobs: 2, interval: '200ms' });
      assert.equal(adaptive.minimum, 1);
      assert.equal(adaptive.maximum, 2);
      await cluster.waitForWorkers(1, 60_000);
      assert.equal(cluster.jobs.length, 1);
      assert.equal(queued().length, 1);
    } finally {
      await cluster.close();
    }
    await until('no job left in squeue', () => (queued().length === 0 ? true : undefined), 20_000);
  });

  it('says what sbatch refused', async () => {
    const cluster = await SlurmCluster.start({ cores: 1, memory: '1GB', queue: 'nowhere', host: '127.0.0.1', logDirectory: join(slurm.dir, 'logs'), dashboardAddress: null });
    try {
      await assert.rejects(cluster.scale({ jobs: 1 }), /^Error: sbatch --parsable \/tmp\/skein-slurm-\w+\/job\.sh failed \(1\) when it submits a job: sbatch: error: .*invalid partition specified: nowhere/s);
    } finally {
      await cluster.close();
    }
  });
});
