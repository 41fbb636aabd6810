/**
 * `ResourceProfiler`: samples CPU and memory of this process and of its child processes (the
 * processes scheduler's workers) at a fixed interval while a run is going (Dask's
 * ResourceProfiler). CPU is percent of one core since the previous sample; children are read
 * from /proc (Linux); elsewhere only this process is sampled.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Callback } from '../core/callbacks.js';
import { clock } from '../core/timings.js';
import type { ResourceSample } from './record.js';

const TICKS_PER_SECOND = 100; // Linux USER_HZ
const PAGE_BYTES = 4096;

/** Child processes that are Skein worker processes (not, say, esbuild's service). */
function workerPids(): number[] {
  try {
    const pids = new Set<number>();
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      for (const p of readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' ')) if (p.trim()) pids.add(Number(p));
    }
    return [...pids].filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('processWorker');
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

function procTimes(pid: number): { cpuMs: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    const rss = Number(fields[21]) * PAGE_BYTES;
    return { cpuMs, rss };
  } catch {
    return undefined;
  }
}

export class ResourceProfiler implements Callback {
  readonly samples: ResourceSample[] = [];
  readonly intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last = new Map<string, { t: number; cpuMs: number }>();

  constructor(options: { intervalMs?: number } = {}) {
    const ms = options.intervalMs ?? 100;
    if (!Number.isFinite(ms) || ms < 1) throw new RangeError(`intervalMs must be a number >= 1, got ${String(ms)}`);
    this.intervalMs = ms;
  }

  start(): void {
    this.samples.length = 0;
    this.#last.clear();
    this.#workers = [];
    this.sample();
    this.#timer = setInterval(() => {
      this.#workers = workerPids(); // scanning /proc costs: only on the timer, never per task
      this.sample();
    }, this.intervalMs);
    this.#timer.unref();
  }

  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
  }

  #workers: number[] = [];

  /** Takes one sample of this process and of the worker processes seen by the last scan. */
  sample(): void {
    const t = clock();
    const usage = process.cpuUsage();
    this.#push('main', t, (usage.user + usage.system) / 1000, process.memoryUsage.rss());
    for (const pid of this.#workers) {
      const times = procTimes(pid);
      if (times !== undefined) this.#push(`process-${pid}`, t, times.cpuMs, times.rss);
    }
  }

  #push(source: string, t: number, cpuMs: number, rssBytes: number): void {
    const last = this.#last.get(source);
    this.#last.set(source, { t, cpuMs });
    const cpuPercent = last === undefined || t <= last.t ? 0 : Math.round(((cpuMs - last.cpuMs) / (t - last.t)) * 1000) / 10;
    this.samples.push({ t, source, cpuPercent, rssBytes });
  }
}

/**
 * This process's CPU (every thread) over wall time since the previous reading, 1 = one core
 * busy: each call of the returned function reads it and starts the next interval.
 */
export function cpuMeter(): () => number {
  let usage = process.cpuUsage();
  let at = performance.now();
  return () => {
    const now = performance.now();
    const used = process.cpuUsage(usage);
    const share = (used.user + used.system) / 1000 / Math.max(1, now - at);
    usage = process.cpuUsage();
    at = now;
    return share;
  };
}
