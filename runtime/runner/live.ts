/**
 * Live task states for the graph panel: the core's transition log read ten times a second,
 * the newest state of each task that moved sent as one `transitions` message (runs and debug
 * sessions alike). "Running" means begun in a worker: where the executor queues tasks ahead of
 * its workers, a task handed over shows as ready (a link of a chain as waiting) until its worker
 * begins it.
 */
import type { Callback } from '../core/callbacks.js';
import { LogCursor, type SchedulerState, TaskStatus } from '../core/state.js';
import { STATE_CODES } from '../core/taskStates.js';
import type { FromRunner } from './protocol.js';

/**
 * With `live`: sends the transitions of the core's log as they happen, at most ten times a
 * second and once at the end: for each task that changed since the last message, its newest state.
 */
export function liveTransitions(total: () => number, send: (message: FromRunner) => unknown): Callback & { flush(): void } {
  let state: SchedulerState | undefined;
  let timer: NodeJS.Timeout | undefined;
  let cursor = new LogCursor();
  const flush = (): void => {
    const newest = new Map<number, number>();
    const begins = state?.begins === true;
    const read = cursor.read(state?.log, (t, from, to) => {
      // handed over, not begun yet: still ready (or waiting, for a link after another in its chain)
      if (begins && to === TaskStatus.running && from !== TaskStatus.running) newest.set(t, from === TaskStatus.ready ? TaskStatus.ready : TaskStatus.waiting);
      else newest.set(t, to);
    });
    if (read === 0) return;
    const tasks = [...newest.keys()];
    void send({ kind: 'transitions', tasks, states: tasks.map((t) => STATE_CODES[newest.get(t)!]).join(''), done: state!.finished.length, total: total() });
  };
  return {
    /** Sends what changed since the last message now (before a message that must come after it). */
    flush,
    transitions: true,
    starts: true,
    startState(_dsk, s) {
      // a run started again (a debug session stepping back): its log from the start
      clearInterval(timer);
      cursor = new LogCursor();
      state = s;
      flush();
      timer = setInterval(flush, 100);
    },
    finish() {
      clearInterval(timer);
      flush();
    },
  };
}

