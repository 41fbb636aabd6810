/**
 * `ProgressBar`: a callback that draws tasks done/total, rate and ETA on a terminal (stderr by
 * default) with cli-progress, redrawn at most 10 times a second.
 */
import { SingleBar } from 'cli-progress';
import type { Callback } from '../core/callbacks.js';
import type { SchedulerState } from '../core/state.js';

export class ProgressBar implements Callback {
  #bar: SingleBar | undefined;
  #done = 0;
  readonly #stream: NodeJS.WriteStream;

  constructor(options: { stream?: NodeJS.WriteStream } = {}) {
    this.#stream = options.stream ?? process.stderr;
  }

  startState(_dsk: unknown, state: SchedulerState): void {
    let total = 0;
    for (let t = 0; t < state.graph.size; t++) if (state.status[t] !== 3 /* memory: a literal */) total++;
    this.#done = 0;
    this.#bar = new SingleBar({
      stream: this.#stream,
      format: '[{bar}] {percentage}% | {value}/{total} tasks | {rate} tasks/s | ETA {eta_formatted}',
      fps: 10,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    });
    this.#bar.start(total, 0, { rate: '0' });
  }

  posttask(): void {
    this.#done++;
    this.#bar?.update(this.#done, { rate: this.#rate() });
  }

  finish(): void {
    this.#bar?.stop();
    this.#bar = undefined;
  }

  #started = performance.now();
  #rate(): string {
    if (this.#done === 1) this.#started = performance.now();
    const s = (performance.now() - this.#started) / 1000;
    return s > 0 ? Math.round(this.#done / s).toString() : '0';
  }
}
