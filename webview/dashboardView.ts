/**
 * The dashboard's own tabs (shown only when the page is served by a scheduler): the cluster's
 * workers as a sortable table, and the tasks that raised. Plain DOM tables: every name and key is
 * text that find and screen readers reach, and the headers are buttons the keyboard reaches.
 */
import type { DashboardFailed, DashboardWorker, SchedulerSample } from './protocol.js';

type Column = { readonly title: string; readonly value: (w: DashboardWorker) => number | string; readonly show?: (w: DashboardWorker) => string };

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

const COLUMNS: readonly Column[] = [
  { title: 'Name', value: (w) => w.name },
  { title: 'Address', value: (w) => w.address },
  { title: 'PID', value: (w) => w.pid },
  { title: 'Threads', value: (w) => w.nthreads },
  { title: 'CPU', value: (w) => w.cpu, show: (w) => `${(w.cpu * 100).toFixed(0)} %` },
  { title: 'Memory', value: (w) => w.memory, show: (w) => (w.memoryLimit === null ? mb(w.memory) : `${mb(w.memory)} of ${mb(w.memoryLimit)}${w.paused ? ', paused' : ''}`) },
  { title: 'Managed', value: (w) => w.managed, show: (w) => mb(w.managed) },
  { title: 'Unmanaged', value: (w) => Math.max(0, w.memory - w.managed), show: (w) => mb(Math.max(0, w.memory - w.managed)) },
  { title: 'Spilled', value: (w) => w.spilled, show: (w) => mb(w.spilled) },
  { title: 'Processing', value: (w) => w.processing },
  { title: 'Threads busy', value: (w) => w.executing },
  { title: 'Results held', value: (w) => w.keys },
  { title: 'Received', value: (w) => received(w), show: (w) => mb(received(w)) },
  { title: 'Last heartbeat', value: (w) => w.lastSeenMs, show: (w) => `${(w.lastSeenMs / 1000).toFixed(1)} s ago` },
];

/** Bytes a worker fetched from the others. */
const received = (w: DashboardWorker): number => Object.values(w.received).reduce((a, b) => a + b, 0);

/** Managed and unmanaged memory as a bar against the worker's limit (or its memory, without one); spilled beside it in text. */
function memoryBar(w: DashboardWorker): HTMLElement {
  const whole = w.memoryLimit ?? Math.max(w.memory, 1);
  const bar = Object.assign(document.createElement('div'), { className: 'membar' });
  bar.setAttribute('aria-hidden', 'true'); // the cells beside it say the same in text
  const part = (cls: string, bytes: number): void => {
    const s = Object.assign(document.createElement('span'), { className: cls });
    s.style.width = `${Math.min(100, (Math.max(0, bytes) / whole) * 100)}%`;
    bar.append(s);
  };
  part('managed', w.managed);
  part('unmanaged', w.memory - w.managed);
  if (w.paused) bar.classList.add('paused');
  return bar;
}

/** Memory samples kept per worker on a live page (one a second). */
const MEMORY_KEPT = 600;

export class WorkersTable {
  #workers: readonly DashboardWorker[] = [];
  #sortBy = 0;
  #descending = false;
  /** Each worker's memory at each update (by address), or the history a report carries. */
  readonly #memory = new Map<string, number[]>();

  constructor(readonly root: HTMLElement) {}

  update(workers: readonly DashboardWorker[]): void {
    this.#workers = workers;
    for (const w of workers) {
      if (w.history !== undefined) {
        this.#memory.set(w.address, w.history.map((s) => s[1]));
        continue;
      }
      let list = this.#memory.get(w.address);
      if (list === undefined) this.#memory.set(w.address, (list = []));
      list.push(w.memory);
      if (list.length > MEMORY_KEPT) list.shift();
    }
    for (const address of this.#memory.keys()) if (!workers.some((w) => w.address === address)) this.#memory.delete(address);
    this.render();
  }

  render(): void {
    const column = COLUMNS[this.#sortBy]!;
    const rows = [...this.#workers].sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return this.#descending ? -c : c;
    });
    const table = document.createElement('table');
    table.className = 'workers';
    const caption = table.createCaption();
    caption.textContent = `${rows.length} worker${rows.length === 1 ? '' : 's'}, ${rows.reduce((n, w) => n + w.nthreads, 0)} threads`;
    const head = table.createTHead().insertRow();
    COLUMNS.forEach((c, i) => {
      const th = document.createElement('th');
      th.scope = 'col';
      if (i === this.#sortBy) th.setAttribute('aria-sort', this.#descending ? 'descending' : 'ascending');
      const button = Object.assign(document.createElement('button'), { textContent: c.title, title: `Sort by ${c.title.toLowerCase()}` });
      button.addEventListener('click', () => {
        this.#descending = i === this.#sortBy ? !this.#descending : false;
        this.#sortBy = i;
        this.render();
        (this.root.querySelectorAll('th button')[i] as HTMLButtonElement | undefined)?.focus();
      });
      th.append(button);
      head.append(th);
    });
    const body = table.createTBody();
    for (const w of rows) {
      const tr = body.insertRow();
      tr.dataset.address = w.address;
      for (const c of COLUMNS) {
        const cell = tr.insertCell();
        cell.textContent = c.show ? c.show(w) : String(c.value(w));
        if (c.title === 'Memory') cell.append(memoryBar(w));
      }
      const series = this.#memory.get(w.address) ?? [];
      const last = series.length;
      tr.insertCell().append(sparkline(series, Math.max(2, last), `${w.name}'s memory over the last ${last} s: from ${mb(series[0] ?? 0)} to ${mb(w.memory)}, at most ${mb(Math.max(0, ...series))}`));
    }
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = 'Memory over time';
    head.append(th);
    this.root.replaceChildren(table, transfers(rows));
  }
}

/** Bytes moved between workers: from whom each worker fetched how much, largest first. */
function transfers(workers: readonly DashboardWorker[]): HTMLElement {
  const pairs = workers.flatMap((w) => Object.entries(w.received).map(([from, bytes]) => [from, w.name, bytes] as const)).sort((a, b) => b[2] - a[2]);
  if (pairs.length === 0) return Object.assign(document.createElement('p'), { className: 'empty transfers', textContent: 'No data moved between workers.' });
  const table = document.createElement('table');
  table.className = 'transfers';
  table.createCaption().textContent = `Bytes moved between workers: ${mb(pairs.reduce((n, p) => n + p[2], 0))} in all`;
  const head = table.createTHead().insertRow();
  for (const title of ['From', 'To', 'Bytes']) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: title }));
  const body = table.createTBody();
  for (const [from, to, bytes] of pairs) {
    const tr = body.insertRow();
    for (const text of [from, to, bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : mb(bytes)]) Object.assign(tr.insertCell(), { textContent: text });
  }
  return table;
}

export function renderFailed(root: HTMLElement, failed: readonly DashboardFailed[]): void {
  if (failed.length === 0) {
    root.replaceChildren(Object.assign(document.createElement('p'), { className: 'empty', textContent: 'No task has failed.' }));
    return;
  }
  const table = document.createElement('table');
  table.className = 'failed';
  table.createCaption().textContent = `${failed.length} task${failed.length === 1 ? '' : 's'} raised (their dependents failed with them)`;
  const head = table.createTHead().insertRow();
  for (const title of ['Key', 'Error', 'Worker', 'Where']) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: title }));
  const body = table.createTBody();
  for (const f of failed) {
    const tr = body.insertRow();
    tr.dataset.key = f.key;
    tr.insertCell().textContent = f.key;
    tr.insertCell().textContent = f.error;
    tr.insertCell().textContent = f.worker ?? '';
    const where = tr.insertCell();
    if (f.stack !== null) where.append(Object.assign(document.createElement('pre'), { textContent: f.stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 3).join('\n') }));
  }
  root.replaceChildren(table);
}

/** Progress per key group: how many tasks of each group are in each state (the biggest groups first). */
export function renderGroupProgress(root: HTMLElement, groups: ReadonlyArray<{ readonly name: string; readonly counts: Readonly<Record<string, number>> }>): void {
  const table = document.createElement('table');
  table.className = 'groups';
  table.createCaption().textContent = 'Progress by key group';
  const columns = ['waiting', 'ready', 'running', 'memory', 'released', 'erred'] as const;
  const head = table.createTHead().insertRow();
  for (const title of ['Group', 'Tasks', 'Waiting', 'Queued', 'Processing', 'In memory', 'Released', 'Erred']) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: title }));
  const body = table.createTBody();
  const sized = groups.map((g) => ({ ...g, total: columns.reduce((n, c) => n + (g.counts[c] ?? 0), 0) })).sort((a, b) => b.total - a.total);
  for (const g of sized) {
    const tr = body.insertRow();
    tr.dataset.group = g.name;
    tr.insertCell().textContent = g.name;
    tr.insertCell().textContent = String(g.total);
    for (const c of columns) tr.insertCell().textContent = String(g.counts[c] ?? 0);
  }
  root.replaceChildren(table);
}

const HISTORY = 120;

/** The scheduler's own load over the last two minutes: now, and a line per measure. */
export class SchedulerLoad {
  readonly #samples: SchedulerSample[] = [];

  constructor(readonly root: HTMLElement) {}

  add(sample: SchedulerSample): void {
    this.#samples.push(sample);
    if (this.#samples.length > HISTORY) this.#samples.shift();
    const measures: ReadonlyArray<readonly [string, (s: SchedulerSample) => number, (v: number) => string]> = [
      ['CPU', (s) => s.cpu * 100, (v) => `${v.toFixed(0)} %`],
      ['Memory', (s) => s.memory / 1e6, (v) => `${v.toFixed(0)} MB`],
      ['Event-loop delay (p99)', (s) => s.loopDelayMs, (v) => `${v.toFixed(1)} ms`],
    ];
    const table = document.createElement('table');
    table.className = 'system';
    table.createCaption().textContent = `The scheduler's process, last ${this.#samples.length} s`;
    const body = table.createTBody();
    for (const [name, value, show] of measures) {
      const tr = body.insertRow();
      tr.dataset.measure = name;
      Object.assign(tr.insertCell(), { textContent: name });
      const now = value(sample);
      Object.assign(tr.insertCell(), { textContent: show(now) });
      tr.insertCell().append(sparkline(this.#samples.map(value), HISTORY, `${name} over the last ${this.#samples.length} s: now ${show(now)}`));
    }
    this.root.replaceChildren(table);
  }
}

/** A line of `values` across `capacity` points' width. */
function sparkline(values: readonly number[], capacity: number, label: string): SVGSVGElement {
  const width = 160;
  const height = 24;
  const max = Math.max(1e-9, ...values);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', values.map((v, i) => `${((i / Math.max(1, capacity - 1)) * width).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' '));
  line.setAttribute('class', 'spark');
  svg.append(line);
  return svg;
}
