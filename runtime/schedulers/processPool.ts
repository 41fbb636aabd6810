/**
 * A pool of Node child processes running Skein's worker (processWorker.js), each handling one
 * batch at a time over IPC with advanced (v8) serialization. A process that dies is replaced;
 * the batch it ran is rejected with how it died. `close()` kills every process and waits.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { runtimeFile } from '../loader/register.js';
import type { WireBatch, WireResult } from '../workers/protocol.js';

interface Job {
  readonly id: number;
  readonly batch: WireBatch;
  readonly signal: AbortSignal;
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
    for (let i = 0; i < n; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const child = fork(fileURLToPath(runtimeFile('processWorker.js')), [], {
      serialization: 'advanced',
      execArgv: ['--enable-source-maps'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child };
    child.on('message', (message: { id: number; result?: WireResult; crash?: string }) => {
      const job = slot.job;
      if (job === undefined || job.id !== message.id) return;
      slot.job = undefined;
      job.done?.();
      if (message.result !== undefined) job.resolve(message.result);
      else job.reject(new Error(message.crash));
      this.#pump();
    });
    child.on('exit', (code, signal) => {
      const job = slot.job;
      slot.job = undefined;
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
      const onAbort = (): void => {
        if (slot.job === job) slot.child.kill('SIGKILL');
      };
      job.signal.addEventListener('abort', onAbort, { once: true });
      job.done = () => job.signal.removeEventListener('abort', onAbort);
      const fail = (error: unknown): void => {
        if (slot.job !== job) return;
        slot.job = undefined;
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

  /** Runs one batch on the next free process. */
  run(batch: WireBatch, signal: AbortSignal): Promise<WireResult> {
    if (this.#closed) return Promise.reject(new Error('the process pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, batch, signal, resolve, reject });
      this.#pump();
    });
  }

  /** Kills every worker process and waits until they are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the process pool closed'));
    await Promise.all(
      this.#slots.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
