/**
 * The task states, defined once: their names in order (Dask's, as the panel colours them), and
 * one character per state for messages that carry many (the runner's live transitions). No
 * imports: the browser side (webview/) uses this file as it is.
 */
export const TASK_STATES = ['waiting', 'ready', 'running', 'memory', 'released', 'erred'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

/** One character per state, in TASK_STATES order: `STATE_CODES[status]`. */
export const STATE_CODES = 'wrumxe';

/** The state a code stands for ('waiting' for anything unknown). */
export function stateOfCode(code: string): TaskStateName {
  const i = STATE_CODES.indexOf(code);
  return i >= 0 ? TASK_STATES[i]! : 'waiting';
}
