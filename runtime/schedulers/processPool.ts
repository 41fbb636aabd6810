/**
 * A pool of Node child processes running Skein's worker (processWorker.js), each handling one
 * batch at a time over IPC with advanced (v8) serialization. A process that dies is replaced;
 * the batch it ran is rejected with how it died. `close()` kills every process and waits.
 *
 * Idle workers do not keep the parent alive (their handles are unref'd between batches, as
 * piscina does with its threads), and when the parent exits, however it exits, they go too: an
 * exit hook kills them, and a worker whose parent vanished exits on its own ('disconnect').
 */
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { forkWorker, setRef, takeWorkers } from '../workers/spawn.js';
import type { WireBatch, WirePartial, WireResult } from '../workers/protocol.js';

interface Job {
  readonly id: number;
  readonly batch: WireBatch;
  readonly signal: AbortSignal;
  /** Outcomes the worker streamed before the batch ended. */
  readonly onPartial?: (partial: WirePartial) => void;
  resolve(result: WireResult): void;
  reject(error: unknown): void;
  done?: () => void;
}

interface Slot {
  child: ChildProcess;
  job?: Job;
}

/** Error for a batch whose worker process died; `how` is "exit code 3" or "signal SIGKILL". */
export class WorkerExit extends Error {
  constructor(readonly how: string) {
    super(`worker process ended with ${how}`);
    this.name = 'WorkerExit';
  }
}

/** Every pool not yet closed: one exit hook kills their workers. */
const livePools = new Set<ProcessPool>();
let exitHook = false;

function watchExit(pool: ProcessPool): void {
  livePools.add(pool);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of livePools) p.killNow();
  });
}

export class ProcessPool {
  readonly numWorkers: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: { numWorkers?: number } = {}) {
    const n = options.numWorkers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`numWorkers must be an integer >= 1, got ${String(n)}`);
    this.numWorkers = n;
    const early = takeWorkers(n);
    for (let i = 0; i < n; i++) this.#slots.push(this.#spawn(early?.[i]));
    watchExit(this);
  }

  /** Kills every worker at once, without waiting (for the parent's exit hook). */
  killNow(): void {
    this.#closed = true;
    for (const { child } of this.#slots) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  /** A slot for `child` (a worker started early), or for a new worker process. */
  #spawn(child: ChildProcess = forkWorker()): Slot {
    const slot: Slot = { child };
    child.on('message', (message: { id: number; result?: WireResult; partial?: WirePartial; crash?: string }) => {
      const job = slot.job;
      if (job === undefined || job.id !== message.id) return;
      if (message.partial !== undefined) {
        job.onPartial?.(message.partial);
        return;
      }
      slot.job = undefined;
      setRef(child, false);
      job.done?.();
      if (message.result !== undefined) job.resolve(message.result);
      else job.reject(new Error(message.crash));
      this.#pump();
    });
    child.on('exit', (code, signal) => {
      const job = slot.job;
      slot.job = undefined;
      setRef(child, false);
      job?.done?.();
      if (job !== undefined) job.reject(job.signal.aborted ? job.signal.reason : new WorkerExit(signal ? `signal ${signal}` : `exit code ${code}`));
      if (this.#closed) return;
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots[i] = this.#spawn();
      this.#pump();
    });
    child.on('error', () => {
      // 'exit' follows and handles the job; without a listener the error would be thrown
    });
    return slot;
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.job !== undefined || !slot.child.connected) continue;
      const job = this.#queue.shift()!;
      if (job.signal.aborted) {
        job.reject(job.signal.reason);
        continue;
      }
      slot.job = job;
      setRef(slot.child, true);
      const onAbort = (): void => {
        if (slot.job === job) slot.child.kill('SIGKILL');
      };
      job.signal.addEventListener('abort', onAbort, { once: true });
      job.done = () => job.signal.removeEventListener('abort', onAbort);
      const fail = (error: unknown): void => {
        if (slot.job !== job) return;
        slot.job = undefined;
        setRef(slot.child, false);
        job.done?.();
        job.reject(error);
      };
      try {
        // advanced serialization throws here, synchronously, for a value it cannot clone
        slot.child.send({ id: job.id, batch: job.batch }, (error) => {
          if (error) {
            fail(error);
            this.#pump();
          }
        });
      } catch (error) {
        fail(error);
      }
    }
  }

  /** Runs one batch on the next free process; `onPartial` receives outcomes streamed before it ends. */
  run(batch: WireBatch, signal: AbortSignal, onPartial?: (partial: WirePartial) => void): Promise<WireResult> {
    if (this.#closed) return Promise.reject(new Error('the process pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, batch, signal, onPartial, resolve, reject });
      this.#pump();
    });
  }

  /** Process ids of the live workers. */
  get pids(): number[] {
    return this.#slots.map((s) => s.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** `await using pool = new ProcessPool()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Kills every worker process and waits until they are gone. */
  async close(): Promise<void> {
    livePools.delete(this);
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the process pool closed'));
    await Promise.all(
      this.#slots.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            setRef(child, true); // an idle worker is unref'd: keep the process up until it is gone
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
