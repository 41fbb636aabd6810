/**
 * `skein run` starts the default pool before the CLI itself has loaded: bin/skein.js calls
 * `prewarm` with the command line first, so worker threads or processes boot, and import the
 * graph module, while this thread loads the CLI and the graph file. Only the plain forms of the
 * options are read here; anything unusual (or invalid) skips the warm-up, and the CLI proper
 * parses and validates everything as usual. A warm-up never fails the command.
 */
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, workerCount } from '../core/config.js';
import { needsLoader, workersNeedLoader } from '../loader/register.js';
import { warmDefaultPool } from '../schedulers/defaultPools.js';

/** The graph file, scheduler and worker count of `skein run …`, or undefined. */
export function runArguments(args: readonly string[]): { file: string; scheduler?: string; numWorkers?: number } | undefined {
  if (args[0] !== 'run') return undefined;
  let file: string | undefined;
  let scheduler: string | undefined;
  let numWorkers: number | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    if (name === '-s' || name === '--scheduler') scheduler = value();
    else if (name === '-n' || name === '--num-workers') numWorkers = Number(value());
    else if (name === '-k' || name === '--keys' || name === '--record' || name === '--trace') value();
    else if (name.startsWith('-')) continue; // flags without a value (--json, --no-progress)
    else if (file === undefined) file = arg;
    else return undefined;
  }
  return file === undefined ? undefined : { file, scheduler, numWorkers };
}

export function prewarm(args: readonly string[]): void {
  try {
    const run = runArguments(args);
    if (run === undefined) return;
    const perCall: Record<string, unknown> = {};
    if (run.scheduler !== undefined) perCall.scheduler = run.scheduler;
    if (run.numWorkers !== undefined) perCall.numWorkers = run.numWorkers;
    const cfg = resolveConfig(perCall);
    const path = resolvePath(run.file);
    if (cfg.scheduler === 'sync' || !existsSync(path)) return;
    const url = pathToFileURL(path).href;
    warmDefaultPool(cfg.scheduler, workerCount(cfg), [url], needsLoader(path) || workersNeedLoader([url]));
  } catch {
    // the CLI proper reports bad options and configuration, with the right exit code
  }
}
