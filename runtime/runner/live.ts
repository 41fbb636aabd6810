/**
 * Live task states for the graph panel: the core's transition log read ten times a second,
 * the newest state of each task that moved sent as one `transitions` message (runs and debug
 * sessions alike).
 */
import type { Callback } from '../core/callbacks.js';
import { LogCursor, type SchedulerState } from '../core/state.js';
import { STATE_CODES } from '../core/taskStates.js';
import type { FromRunner } from './protocol.js';

/**
 * With `live`: sends the transitions of the core's log as they happen, at most ten times a
 * second and once at the end: for each task that changed since the last message, its newest state.
 */
export function liveTransitions(total: () => number, send: (message: FromRunner) => unknown): Callback {
  let state: SchedulerState | undefined;
  let timer: NodeJS.Timeout | undefined;
  const cursor = new LogCursor();
  const flush = (): void => {
    const newest = new Map<number, number>();
    if (cursor.read(state?.log, (t, _from, to) => newest.set(t, to)) === 0) return;
    const tasks = [...newest.keys()];
    void send({ kind: 'transitions', tasks, states: tasks.map((t) => STATE_CODES[newest.get(t)!]).join(''), done: state!.finished.length, total: total() });
  };
  return {
    transitions: true,
    startState(_dsk, s) {
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

