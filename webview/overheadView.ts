/**
 * The overhead view: per key group, compute against overhead (the same figures as
 * `skein report`), the overall overhead ratio, a histogram of run and overhead per task, and the
 * report's advice.
 */
import { analyze, formatMs, startupLine } from '../runtime/diagnostics/report.js';
import type { RunModel } from './model.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Decades of microseconds: < 10 µs, 10–100 µs, … , ≥ 1 s. */
const BUCKETS = ['<10 µs', '10–100 µs', '0.1–1 ms', '1–10 ms', '10–100 ms', '0.1–1 s', '≥1 s'];
function bucket(ms: number): number {
  const us = ms * 1000;
  return Math.max(0, Math.min(BUCKETS.length - 1, Math.floor(Math.log10(Math.max(us, 1)))));
}

export function renderOverhead(root: HTMLElement, model: RunModel): void {
  root.replaceChildren();
  const report = analyze(model.record);
  if (report.tasks === 0) {
    root.append(el('p', 'No timings: this graph has not run. Run it (or open a recorded run) to see compute against overhead.', 'empty'));
    return;
  }
  root.append(
    // sums over tasks, which run side by side: they can exceed the run's length
    el('p', `${report.tasks} tasks in ${formatMs(report.wallMs)} with the ${report.scheduler} scheduler; summed over tasks: run ${formatMs(report.runTotalMs)}, overhead ${formatMs(report.overheadTotalMs)}`),
    el('p', `overhead ratio ${(report.overheadRatio * 100).toFixed(0)}%`, 'ratio'),
  );
  const starting = startupLine(report);
  if (starting !== undefined) root.append(Object.assign(el('p', starting), { id: 'worker-startup' }));
  const table = el('table');
  table.id = 'overhead-table';
  const head = el('tr');
  for (const h of ['group', 'tasks', 'run, summed', 'run median', 'overhead, summed', 'overhead median', 'compute vs overhead']) head.append(el('th', h));
  table.append(head);
  for (const g of report.groups) {
    const row = el('tr');
    row.dataset.group = g.group;
    for (const v of [g.group, String(g.count), formatMs(g.runTotalMs), formatMs(g.runMedianMs), formatMs(g.overheadTotalMs), formatMs(g.overheadMedianMs)]) row.append(el('td', v));
    const cell = el('td');
    const total = g.runTotalMs + g.overheadTotalMs;
    const bar = el('div', undefined, 'split');
    const run = el('span', undefined, 'run');
    run.style.width = `${total > 0 ? (g.runTotalMs / total) * 100 : 0}%`;
    bar.append(run);
    cell.append(bar);
    row.append(cell);
    table.append(row);
  }
  root.append(table);
  // histogram of per-task run and overhead
  const runs = new Array<number>(BUCKETS.length).fill(0);
  const overheads = new Array<number>(BUCKETS.length).fill(0);
  for (let t = 0; t < model.size; t++) {
    const p = model.phases(t);
    if (p.run === null || p.wait === null || p.transfer === null || p.result === null) continue;
    runs[bucket(p.run)]!++;
    overheads[bucket(p.wait + p.transfer + p.result)]!++;
  }
  const max = Math.max(1, ...runs, ...overheads);
  const hist = el('div', undefined, 'histogram');
  hist.append(el('h3', 'Tasks by time per task'));
  BUCKETS.forEach((label, i) => {
    const row = el('div', undefined, 'hrow');
    row.append(el('span', label, 'hlabel'));
    const r = el('span', undefined, 'hbar run');
    r.style.width = `${(runs[i]! / max) * 45}%`;
    r.title = `${runs[i]} tasks ran ${label}`;
    const o = el('span', undefined, 'hbar overhead');
    o.style.width = `${(overheads[i]! / max) * 45}%`;
    o.title = `${overheads[i]} tasks had ${label} of overhead`;
    row.append(r, o);
    hist.append(row);
  });
  root.append(hist);
  const advice = el('div', undefined, 'advice');
  advice.append(el('h3', 'Advice'));
  if (report.advice.length === 0) advice.append(el('p', 'None: nothing in this run stands out.'));
  for (const a of report.advice) advice.append(el('p', a));
  root.append(advice);
}
