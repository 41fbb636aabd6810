/**
 * Task runs waiting for a worker, best priority (lowest number) first: a binary heap. Runs
 * arrive in batches from the core, each in priority order; a run that became ready later (the
 * dependent of a task just finished) often comes before those still waiting, as the core's own
 * depth-first order wants: two blocks and then their sum, not every block first.
 */
import type { TaskRun } from '../core/local.js';

export class RunQueue {
  #runs: TaskRun[] = [];
  #priority: Int32Array = new Int32Array(0);

  /** Empties the queue; `priority`: the run's static priorities, by task number. */
  reset(priority: Int32Array): void {
    this.#runs = [];
    this.#priority = priority;
  }

  /** Drops every run (a run cancelled). */
  clear(): void {
    this.#runs = [];
  }

  get size(): number {
    return this.#runs.length;
  }

  /** The best run, without taking it. */
  peek(): TaskRun | undefined {
    return this.#runs[0];
  }

  push(run: TaskRun): void {
    const runs = this.#runs;
    const p = this.#priority;
    const key = p[run.index]!;
    let i = runs.length;
    runs.push(run);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (p[runs[parent]!.index]! <= key) break;
      runs[i] = runs[parent]!;
      i = parent;
    }
    runs[i] = run;
  }

  /** Takes the best run. */
  pop(): TaskRun | undefined {
    const runs = this.#runs;
    const top = runs[0];
    const last = runs.pop();
    if (runs.length === 0 || last === undefined) return top;
    const p = this.#priority;
    const key = p[last.index]!;
    const n = runs.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && p[runs[child + 1]!.index]! < p[runs[child]!.index]!) child++;
      if (p[runs[child]!.index]! >= key) break;
      runs[i] = runs[child]!;
      i = child;
    }
    runs[i] = last;
    return top;
  }
}
