/**
 * The Tasks tab: the run as text, what the canvas graph shows as pictures. Every key, its group,
 * state, function, run time and worker is in a DOM table, so the browser's find and screen
 * readers reach them; a key is a button that shows the task in the graph.
 */
import type { RunModel } from './model.js';

/** Rows drawn at most (a bigger run lists its first tasks in run order, and says so). */
export const TASK_ROWS = 2000;

export function renderTaskTable(root: HTMLElement, model: RunModel, onKey: (key: string) => void, fmt: (ms: number | null) => string): void {
  const r = model.record;
  const order = Array.from({ length: model.size }, (_, t) => t).sort((a, b) => r.graph.order[a]! - r.graph.order[b]!);
  const shown = order.slice(0, TASK_ROWS);
  const table = document.createElement('table');
  table.className = 'tasks';
  table.createCaption().textContent =
    shown.length < model.size ? `${model.size} tasks; the first ${shown.length} in run order (search a key with Find a key)` : `${model.size} tasks, in run order`;
  const head = table.createTHead().insertRow();
  for (const title of ['Key', 'Group', 'State', 'Function', 'Ran', 'Worker']) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: title }));
  const body = table.createTBody();
  for (const t of shown) {
    const tr = body.insertRow();
    const key = r.graph.keys[t]!;
    tr.dataset.key = key;
    const button = Object.assign(document.createElement('button'), { className: 'key', textContent: key, title: 'Show it in the graph' });
    button.addEventListener('click', () => onKey(key));
    tr.insertCell().append(button);
    tr.insertCell().textContent = r.graph.groups[t]!;
    tr.insertCell().textContent = model.states[t]!;
    const f = r.graph.function[t]!;
    tr.insertCell().textContent = f >= 0 ? r.graph.functions[f]!.name : '(value)';
    tr.insertCell().textContent = fmt(model.phases(t).run);
    const w = r.tasks.worker[t]!;
    tr.insertCell().textContent = w >= 0 ? (r.workers[w]?.name ?? '') : '';
  }
  root.replaceChildren(table);
}
