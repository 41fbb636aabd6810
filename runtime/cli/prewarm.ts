/**
 * `skein run` starts its workers before the CLI itself has loaded: bin/skein.js calls `prewarm`
 * with the command line first, so worker threads or processes boot, and import the graph
 * module, while this thread loads the CLI and the graph file. Worker processes are forked before
 * anything else is loaded here (the pool adopts them later); threads need piscina, so the
 * default thread pool starts once the configuration module is in. Only the plain forms of the
 * options are read here; anything unusual (or invalid) skips the warm-up, and the CLI proper
 * parses and validates everything as usual. A warm-up never fails the command.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { needsLoader, workersNeedLoader } from '../loader/register.js';
import { forkWorker, offerWorkers, warmupBatch } from '../workers/spawn.js';

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

let interrupted = false;
const onEarlySigint = (): void => {
  interrupted = true;
};

/**
 * Ctrl-C before the CLI has installed its own handler: true when it came (the run is then
 * cancelled at once, as any Ctrl-C). Stops listening either way.
 */
export function takeEarlyInterrupt(): boolean {
  process.removeListener('SIGINT', onEarlySigint);
  return interrupted;
}

export async function prewarm(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const run = runArguments(args);
    if (run === undefined) return;
    // from now on workers exist: Ctrl-C must reach the CLI's cancellation, not kill the process
    process.once('SIGINT', onEarlySigint);
    const path = resolvePath(run.file);
    if (!existsSync(path)) return;
    const url = pathToFileURL(path).href;
    const loader = needsLoader(path) || workersNeedLoader([url]);
    const scheduler = run.scheduler ?? env.SKEIN_SCHEDULER;
    const count = run.numWorkers ?? (env.SKEIN_NUM_WORKERS === undefined ? undefined : Number(env.SKEIN_NUM_WORKERS));
    if ((scheduler === 'processes' || scheduler === 'multiprocessing') && (count === undefined || (Number.isInteger(count) && count > 0))) {
      const warmup = warmupBatch([url], loader);
      const children = Array.from({ length: count ?? availableParallelism() }, () => {
        const child = forkWorker();
        child.send({ id: -1, batch: warmup }); // answered to no one: the pool adopting it ignores the reply
        return child;
      });
      offerWorkers(children);
      return;
    }
    await warmThreads(run, url, loader);
  } catch {
    // the CLI proper reports bad options and configuration, with the right exit code
  }
}

async function warmThreads(run: { scheduler?: string; numWorkers?: number }, url: string, loader: boolean): Promise<void> {
  try {
    const [{ resolveConfig, runOptions, workerCount }, { warmDefaultPool }] = await Promise.all([import('../core/config.js'), import('../schedulers/defaultPools.js')]);
    const cfg = resolveConfig(runOptions(run.scheduler, run.numWorkers));
    if (cfg.scheduler === 'threads' || cfg.scheduler === 'processes') warmDefaultPool(cfg.scheduler, workerCount(cfg), [url], loader);
  } catch {
    // as above: the CLI proper says what is wrong
  }
}
