/**
 * `SlurmCluster`: workers as SLURM batch jobs, as dask-jobqueue's SLURMCluster. Each job is a
 * script (`jobScript()`) whose `#SBATCH` lines ask for one node with the job's cores, memory and
 * walltime in a partition and account, and which starts `skein worker` with this scheduler's
 * address; `sbatch` submits it, `squeue` follows it, `scancel` ends it. The scheduler runs in this
 * process: on a port of this host (its secret in a file on the shared filesystem) or through NATS.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JobCluster, type JobClusterOptions, shellQuote } from './jobCluster.js';

export interface SlurmClusterOptions extends JobClusterOptions {
  /** Walltime of one job, as SLURM writes it ('00:30:00', '1-00:00:00'; default 30 minutes). */
  readonly walltime?: string;
  /** The partition (`#SBATCH --partition`); default: the system's default one. */
  readonly queue?: string;
  /** The account charged (`#SBATCH --account`). */
  readonly account?: string;
  /** The job's name (default `skein-worker`). */
  readonly jobName?: string;
  /** Where jobs write their output (`%x-%j.out`; default: the current folder). */
  readonly logDirectory?: string;
  /** More `#SBATCH` options, as written after it (`['--qos=high', '--constraint=ib']`). */
  readonly jobExtraDirectives?: readonly string[];
  /** Shell lines run before the workers start (`module load nodejs/20`). */
  readonly jobScriptPrologue?: readonly string[];
}

function run(command: string, args: readonly string[], what: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(command, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error === null) return done(stdout);
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      fail(
        new Error(
          missing
            ? `${command} is not on PATH: SlurmCluster ${what} with SLURM's ${command}; run this where SLURM's client commands are installed (Debian: slurm-client).`
            : `${command} ${args.join(' ')} failed (${error.code ?? error.signal}) when it ${what}: ${stderr.trim() || error.message}`,
        ),
      );
    });
  });
}

export class SlurmCluster extends JobCluster {
  readonly #slurm: SlurmClusterOptions;
  readonly walltime: string;

  constructor(options: SlurmClusterOptions) {
    // checked before the scheduler starts (a refused option leaves nothing running)
    const walltime = options.walltime ?? '00:30:00';
    if (!/^(\d+-)?\d+(:\d{2}){0,2}$/.test(walltime)) throw new TypeError(`walltime must be as SLURM writes it ('00:30:00', '2:00:00', '1-00:00:00'); got ${JSON.stringify(walltime)}`);
    super(options);
    this.walltime = walltime;
    this.#slurm = options;
  }

  /** Starts the scheduler; resolves once it listens (no job is submitted until `scale` or `adapt`). */
  static start(options: SlurmClusterOptions): Promise<SlurmCluster> {
    return JobCluster.listeningOrClosed(new SlurmCluster(options));
  }

  /** The script each job runs, as `sbatch` takes it. */
  jobScript(): string {
    const o = this.#slurm;
    const logs = resolve(o.logDirectory ?? '.');
    const directives = [
      `--job-name=${o.jobName ?? 'skein-worker'}`,
      ...(o.queue !== undefined ? [`--partition=${o.queue}`] : []),
      ...(o.account !== undefined ? [`--account=${o.account}`] : []),
      '--nodes=1',
      '--ntasks=1',
      `--cpus-per-task=${this.cores}`,
      `--mem=${this.jobMemoryMiB}M`,
      `--time=${this.walltime}`,
      `--output=${join(logs, '%x-%j.out')}`,
      ...(o.jobExtraDirectives ?? []),
    ];
    const commands = this.workerCommand('slurm-${SLURM_JOB_ID}').map((words) => words.map((w) => (w.includes('${SLURM_JOB_ID}') ? `"${w}"` : shellQuote(w))).join(' '));
    const body =
      commands.length === 1
        ? [`exec ${commands[0]}`]
        : // several workers: each in the background, all stopped together when SLURM ends the job
          ['trap \'kill $(jobs -p) 2>/dev/null\' TERM INT', ...commands.map((c) => `${c} &`), 'wait'];
    return ['#!/usr/bin/env bash', ...directives.map((d) => `#SBATCH ${d}`), '', ...(o.jobScriptPrologue ?? []), ...body, ''].join('\n');
  }

  protected async submit(): Promise<string> {
    const logs = resolve(this.#slurm.logDirectory ?? '.');
    mkdirSync(logs, { recursive: true });
    const folder = await mkdtemp(join(tmpdir(), 'skein-slurm-'));
    try {
      const script = join(folder, 'job.sh');
      writeFileSync(script, this.jobScript(), { mode: 0o700 });
      const out = (await run('sbatch', ['--parsable', script], 'submits a job')).trim();
      // --parsable prints "id" or "id;cluster"
      const id = out.split(';')[0]!;
      if (!/^\d+$/.test(id)) throw new Error(`sbatch answered ${JSON.stringify(out)} where a job id was expected`);
      return id;
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  protected async cancel(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await run('scancel', [...ids], 'cancels its jobs');
  }

  protected async states(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const out = await run('squeue', ['--noheader', '--jobs', ids.join(','), '--format', '%i %T'], 'lists its jobs').catch(() => '');
    return new Map(
      out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.trim().split(/\s+/) as [string, string]),
    );
  }

  protected workerPrefix(id: string): string {
    return `slurm-${id}`;
  }
}
