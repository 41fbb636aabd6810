/**
 * Keeping one worker process running: start it, start it again when it dies, stop it on request.
 * The nanny process (nanny.ts) does this for a LocalCluster's workers, `skein worker` for a
 * worker started by hand.
 */
import { rmSync } from 'node:fs';
import { localDir, spillDir } from './dataStore.js';
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerStart } from './cluster.js';

/** A worker process's exit code when the scheduler refused it (its supervisor does not start it again). */
export const REFUSED_EXIT = 78;

export interface Supervised {
  /** Gives the worker (and every worker started after it) where to join; until then it boots. */
  configure(config: WorkerStart): void;
  /** Stops the worker (gracefully, then SIGKILL after 2 s); resolves when it is gone. */
  stop(): Promise<void>;
  /** Kills the worker at once (the supervisor's own parent is gone). */
  kill(): void;
}


/**
 * Starts the worker at once, before its scheduler is known (`configure` tells it), so the
 * worker process boots while the scheduler starts.
 */
export function superviseWorker(
  identity: { readonly name: string; readonly nthreads: number; readonly env?: NodeJS.ProcessEnv; readonly profiled?: boolean },
  events: { started?(pid: number): void; died?(pid: number, code: number | null, signal: string | null): void; refused?(pid: number): void } = {},
): Supervised {
  let worker: ChildProcess | undefined;
  let config: WorkerStart | undefined;
  let stopping = false;
  let stopped: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (stopped = resolve));

  /**
   * Tells the worker, if its channel is open: a worker dying meanwhile makes the write fail
   * (EPIPE), which its exit handles; unreported, that error would end the supervisor.
   */
  const send = (child: ChildProcess, message: unknown): void => {
    if (child.connected) child.send(message as object, (error) => void error);
  };

  const start = (): void => {
    const child = fork(fileURLToPath(new URL('./distributedWorker.js', import.meta.url)), [identity.name, String(identity.nthreads), ...(identity.profiled === true ? ['profile'] : [])], {
      // --expose-gc: a worker over its memory limit collects garbage right after it spills
      execArgv: ['--enable-source-maps', '--expose-gc'],
      // glibc keeps freed memory of big allocations for reuse unless told to give it back: a worker's
      // results dropped or spilled would stay in its process (Dask sets the same; yours wins).
      // Not MALLOC_MMAP_THRESHOLD_ as well: it cost a worker ~60 ms of start-up (measured).
      env: { MALLOC_TRIM_THRESHOLD_: '65536', ...(identity.env ?? process.env) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    worker = child;
    // a failed write to a dying worker (its exit is what counts)
    child.on('error', () => undefined);
    if (config !== undefined) send(child, config);
    child.on('message', (m: { op: string }) => {
      if (m.op === 'started') events.started?.(child.pid!);
    });
    child.on('exit', (code, signal) => {
      if (worker === child) worker = undefined;
      // a worker killed (out of memory, SIGKILL) could not remove what it spilled: its supervisor does
      removeFolders(identity.name, child.pid!);
      if (stopping) return stopped();
      // refused by the scheduler (another Node.js): starting it again would be refused again
      if (code === REFUSED_EXIT) return events.refused?.(child.pid!);
      events.died?.(child.pid!, code, signal);
      start();
    });
  };
  start();

  return {
    configure(c) {
      config = c;
      if (worker !== undefined) send(worker, c);
    },
    stop() {
      stopping = true;
      if (worker === undefined) return Promise.resolve();
      send(worker, { op: 'close' });
      const w = worker;
      setTimeout(() => w.kill('SIGKILL'), 2000).unref();
      return gone;
    },
    kill() {
      stopping = true;
      const w = worker;
      if (w === undefined) return;
      w.kill('SIGKILL');
      // the supervisor may end before the child's exit is seen (its own parent went): its folders now
      if (w.pid !== undefined) removeFolders(identity.name, w.pid);
    },
  };
}

/** A worker process's spill folder and its own folder (plugins, uploaded modules). */
function removeFolders(name: string, pid: number): void {
  rmSync(spillDir(name, pid), { recursive: true, force: true });
  rmSync(localDir(name, pid), { recursive: true, force: true });
}
