// A single-node SLURM of the test's own (Debian's slurmctld, slurmd, slurm-client and munge,
// installed by scripts/setup-tests.mjs): a munge daemon with its own key and socket, a controller
// and a node daemon on free loopback ports, everything they write in a temporary folder, found by
// the commands through SLURM_CONF. Needs root (the daemons run jobs as their users). Stopped by pid:
// jobs cancelled first (a node daemon leaves running jobs behind when it stops).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../until.js';
import { freePort } from './natsServer.js';

export interface SlurmHost {
  /** The environment that points SLURM's commands at this one (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  readonly dir: string;
  /** A SLURM command's output (throws on failure). */
  run(command: string, args: readonly string[]): string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    // a zombie (not yet reaped) is gone
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export async function startSlurm(): Promise<SlurmHost> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-slurm-'));
  chmodSync(dir, 0o755);
  const host = hostname().split('.')[0]!;
  for (const d of ['munge', 'state', 'log', 'run', `spool/slurmd-${host}`]) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  // munged wants its socket's folder reachable by all, and its key readable by its owner only
  chmodSync(join(dir, 'munge'), 0o755);
  writeFileSync(join(dir, 'munge', 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const [ctld, slurmd] = [await freePort(), await freePort()];
  const node = spawnSync('slurmd', ['-C'], { encoding: 'utf8' }).stdout.split('\n')[0]!;
  writeFileSync(join(dir, 'plugstack.conf'), '');
  writeFileSync(
    join(dir, 'slurm.conf'),
    [
      'ClusterName=skeintest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctld}`,
      `SlurmdPort=${slurmd}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${join(dir, 'munge', 'munge.socket')}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool', 'slurmd-%n')}`,
      `SlurmctldPidFile=${join(dir, 'run', 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'run', 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      `PlugStackConfig=${join(dir, 'plugstack.conf')}`,
      'MpiDefault=none',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core_Memory',
      'MailProg=/bin/true',
      'ReturnToService=2',
      `${node} NodeAddr=127.0.0.1 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
  const run = (command: string, args: readonly string[]): string => {
    const r = spawnSync(command, args, { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
    return r.stdout;
  };
  const pids = (): number[] => ['run/slurmd.pid', 'run/slurmctld.pid', 'munge/munged.pid'].map((f) => join(dir, f)).filter((f) => existsSync(f)).map((f) => Number(readFileSync(f, 'utf8').trim()));
  const stop = async (): Promise<void> => {
    if (pids().some(alive)) {
      const jobs = spawnSync('squeue', ['-h', '-o', '%i'], { encoding: 'utf8', env }).stdout.split('\n').filter((l) => l.trim() !== '');
      if (jobs.length > 0) spawnSync('scancel', ['--full', ...jobs], { env });
      await until('no job left', () => (spawnSync('squeue', ['-h', '-o', '%i'], { encoding: 'utf8', env }).stdout.trim() === '' ? true : undefined), 20_000).catch(() => undefined);
    }
    for (const pid of pids()) {
      if (!alive(pid)) continue;
      process.kill(pid, 'SIGTERM');
      await until(`pid ${pid} to end`, () => (alive(pid) ? undefined : true), 5_000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('munged', [`--socket=${join(dir, 'munge', 'munge.socket')}`, `--key-file=${join(dir, 'munge', 'munge.key')}`, `--log-file=${join(dir, 'munge', 'munged.log')}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`, `--seed-file=${join(dir, 'munge', 'munged.seed')}`]);
    run('slurmctld', ['-c']);
    run('slurmd', []);
    await until('the node idle in sinfo', () => (/idle/.test(spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', env }).stdout) ? true : undefined), 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, dir, run, stop };
}
