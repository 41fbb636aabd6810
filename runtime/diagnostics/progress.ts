/**
 * `ProgressBar`: a callback that draws tasks done/total, rate and ETA on a terminal (stderr by
 * default) with cli-progress, redrawn at most 10 times a second. It reads the core's transition
 * log ten times a second (a task is done when it goes from running to memory), so it needs no
 * hook per task, and chains of tasks still run fused in one worker while it draws.
 */
import { SingleBar } from 'cli-progress';
import type { Callback } from '../core/callbacks.js';
import { LogCursor, type SchedulerState, TaskStatus } from '../core/state.js';

export class ProgressBar implements Callback {
  readonly transitions = true;
  #bar: SingleBar | undefined;
  #done = 0;
  #state: SchedulerState | undefined;
  #cursor = new LogCursor();
  #timer: NodeJS.Timeout | undefined;
  readonly #stream: NodeJS.WriteStream;

  constructor(options: { stream?: NodeJS.WriteStream } = {}) {
    this.#stream = options.stream ?? process.stderr;
  }

  startState(_dsk: unknown, state: SchedulerState): void {
    let total = 0;
    for (let t = 0; t < state.graph.size; t++) if (state.status[t] !== TaskStatus.memory) total++; // literals are done already
    this.#done = 0;
    this.#state = state;
    this.#cursor = new LogCursor();
    this.#bar = new SingleBar({
      stream: this.#stream,
      format: '[{bar}] {percentage}% | {value}/{total} tasks | {rate} tasks/s | ETA {eta_formatted}',
      fps: 10,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    });
    this.#bar.start(total, 0, { rate: '0' });
    this.#timer = setInterval(() => this.#update(), 100).unref();
  }

  #update(): void {
    const before = this.#done;
    this.#cursor.read(this.#state?.log, (_t, from, to) => {
      if (from === TaskStatus.running && to === TaskStatus.memory) this.#done++;
    });
    if (this.#done !== before) this.#bar?.update(this.#done, { rate: this.#rate() });
  }

  finish(): void {
    clearInterval(this.#timer);
    this.#update();
    this.#bar?.stop();
    this.#bar = undefined;
    this.#state = undefined;
  }

  #started = 0;
  #rate(): string {
    if (this.#started === 0) this.#started = performance.now();
    const s = (performance.now() - this.#started) / 1000;
    return s > 0 ? Math.round(this.#done / s).toString() : '0';
  }
}
