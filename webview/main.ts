/**
 * The graph panel app (browser only, no Node): one page with three views of a run (graph,
 * workers, overhead). It runs in the VS Code webview, in a standalone HTML file written by
 * `skein visualize`, and later in the distributed dashboard. Data arrives as messages
 * (protocol.ts); live updates are coalesced to at most ten renders a second.
 */
import type { FromWebview, PageToScheduler, ToWebview } from './protocol.js';
import { COLLAPSE_ABOVE, RunModel, STATES, type State, type VisibleNode } from './model.js';
import { layout } from './layout.js';
import { type ColorBy, GraphView } from './graphView.js';
import { StreamView } from './streamView.js';
import { renderOverhead } from './overheadView.js';
import { SchedulerLoad, WorkersTable, renderFailed, renderGroupProgress } from './dashboardView.js';
import { renderTaskTable } from './taskTable.js';
import { renderFlame } from './flameView.js';
import { nodeAfterKey } from './graphKeys.js';
import { tasksNamed } from '../runtime/debug/breakpointNames.js';
import type { ProfileNode } from '../runtime/diagnostics/flame.js';
import { groupColor, stateColors } from './colors.js';
import { formatDuration, formatMs } from '../runtime/diagnostics/report.js';
import type { RunRecord } from '../runtime/diagnostics/recordSchema.js';

type View = 'graph' | 'workers' | 'overhead' | 'tasks' | 'cluster' | 'failed' | 'profile';
const VIEWS = ['graph', 'workers', 'overhead', 'tasks', 'cluster', 'failed', 'profile'] as const;

interface SavedState {
  view: View;
  colorBy: ColorBy;
  expanded: string[] | null;
}

interface Host {
  post(message: FromWebview): void;
  getState(): SavedState | undefined;
  setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };

const host: Host =
  typeof acquireVsCodeApi === 'function'
    ? (() => {
        const api = acquireVsCodeApi();
        return { post: (m) => api.postMessage(m), getState: () => api.getState() as SavedState | undefined, setState: (s) => api.setState(s) };
      })()
    : { post: (m) => window.dispatchEvent(new CustomEvent('skein-message', { detail: m })), getState: () => undefined, setState: () => undefined };

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const saved = host.getState();
let view: View = saved?.view ?? 'graph';
let model: RunModel | undefined;
let graph: GraphView | undefined;
let stream: StreamView | undefined;
let layoutVersion = 0;
let needsFit = false;
let renderTimer: ReturnType<typeof setTimeout> | undefined;
let lastRender = 0;

const tooltip = $<HTMLDivElement>('tooltip');

function showTooltip(lines: string[] | undefined, x: number, y: number): void {
  if (!lines) {
    tooltip.hidden = true;
    return;
  }
  tooltip.replaceChildren(...lines.map((l) => Object.assign(document.createElement('div'), { textContent: l })));
  tooltip.hidden = false;
  tooltip.style.left = `${Math.min(x + 14, window.innerWidth - 320)}px`;
  tooltip.style.top = `${y + 14}px`;
}

function fmt(ms: number | null): string {
  return ms === null ? '–' : formatMs(ms);
}

function taskLines(t: number): string[] {
  const m = model!;
  const r = m.record;
  const p = m.phases(t);
  const fnIndex = r.graph.function[t]!;
  const fn = fnIndex >= 0 ? r.graph.functions[fnIndex]! : undefined;
  const w = r.tasks.worker[t]!;
  const overhead = p.wait !== null && p.transfer !== null && p.result !== null ? p.wait + p.transfer + p.result : null;
  const bytes = r.tasks.resultBytes[t];
  return [
    r.graph.keys[t]!,
    `function: ${fn ? fn.name : '(value)'}`,
    `state: ${m.states[t]}`,
    `order: ${r.graph.order[t]! + 1} of ${m.size}`,
    `run: ${fmt(p.run)} · overhead: ${fmt(overhead)}`,
    `wait ${fmt(p.wait)} · transfer ${fmt(p.transfer)} · result ${fmt(p.result)}`,
    ...(p.startup !== null && p.startup > 0 ? [`waited ${fmt(p.startup)} for ${w >= 0 ? r.workers[w]!.name : 'its worker'} to start (the worker's start-up, not this task's overhead)`] : []),
    `worker: ${w >= 0 ? r.workers[w]!.name : '–'}`,
    `result size: ${bytes == null ? '–' : `${bytes} bytes`}`,
  ];
}

function nodeLines(n: VisibleNode): string[] {
  if (n.task >= 0) return taskLines(n.task);
  const c = model!.counts(n.tasks);
  return [`group ${n.group}: ${n.members} tasks (click to ${model!.expanded.has(n.group) ? 'collapse' : 'expand'})`, STATES.filter((s) => c[s] > 0).map((s) => `${s} ${c[s]}`).join(' · ')];
}

function link(key: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.textContent = key;
  a.href = '#';
  a.addEventListener('click', (e) => {
    e.preventDefault();
    select(key);
  });
  return a;
}

/** Closes the details pane (its close button, Escape, a click on empty canvas, Fit, another tab, another run). */
function hideDetails(): void {
  const pane = $<HTMLDivElement>('details');
  if (pane.hidden) return;
  pane.hidden = true;
  pane.replaceChildren();
  if (graph?.selected !== undefined) {
    graph.selected = undefined;
    graph.draw();
  }
}

function showDetails(t: number): void {
  const r = model!.record;
  const pane = $<HTMLDivElement>('details');
  pane.hidden = false;
  const add = (label: string, content: string | Node | Node[]): void => {
    const row = document.createElement('div');
    row.className = 'row';
    const l = document.createElement('span');
    l.className = 'label';
    l.textContent = label;
    const v = document.createElement('span');
    if (Array.isArray(content)) content.forEach((c, i) => v.append(...(i > 0 ? [', ', c] : [c])));
    else v.append(content);
    row.append(l, v);
    pane.append(row);
  };
  pane.replaceChildren();
  const close = Object.assign(document.createElement('button'), { className: 'close', title: 'Close (Escape)' });
  close.setAttribute('aria-label', 'Close the details');
  close.append(Object.assign(document.createElement('span'), { className: 'codicon codicon-close' }));
  close.addEventListener('click', hideDetails);
  const title = document.createElement('h2');
  title.textContent = r.graph.keys[t]!;
  pane.append(close, title);
  for (const line of taskLines(t).slice(1)) {
    const [label, ...rest] = line.split(': ');
    add(label!, rest.join(': '));
  }
  const fnIndex = r.graph.function[t]!;
  const fn = fnIndex >= 0 ? r.graph.functions[fnIndex] : undefined;
  if (fn?.file) add('source', `${fn.file}:${fn.line}`);
  if (fn?.file || r.run.graphFile) {
    // the key's definition in the graph file (the language server knows where), else the function
    const b = document.createElement('button');
    b.className = 'reveal';
    b.innerHTML = '<span class="codicon codicon-go-to-file"></span> Reveal in editor';
    b.title = r.run.graphFile ? `Where ${r.graph.keys[t]} is defined in ${r.run.graphFile}` : `${fn!.file}:${fn!.line}`;
    b.addEventListener('click', () => host.post({ kind: 'reveal', key: r.graph.keys[t]!, graphFile: r.run.graphFile ?? null, file: fn?.file ?? null, line: fn?.line ?? 1 }));
    pane.append(b);
  }
  if (taskActions) {
    // in VS Code: debug from here (buttons: the keyboard reaches them)
    const key = r.graph.keys[t]!;
    const bar = Object.assign(document.createElement('div'), { className: 'actions' });
    for (const [action, icon, label, title] of [
      ['toggleBreakpoint', 'debug-breakpoint', 'Toggle Breakpoint', 'A breakpoint on this key (in the Breakpoints view)'],
      ['debugTask', 'debug-alt', 'Debug This Task', 'A debug session that computes what this task needs and stops before it'],
    ] as const) {
      const b = Object.assign(document.createElement('button'), { className: `action ${action}`, title });
      b.append(Object.assign(document.createElement('span'), { className: `codicon codicon-${icon}` }), ` ${label}`);
      b.addEventListener('click', () => host.post({ kind: 'taskAction', action, key, graphFile: r.run.graphFile }));
      bar.append(b);
    }
    pane.append(bar);
  }
  const deps = r.graph.dependencies[t]!.map((d) => link(r.graph.keys[d]!));
  const dependents = r.graph.keys.map((k, i) => (r.graph.dependencies[i]!.includes(t) ? link(k) : undefined)).filter((x): x is HTMLAnchorElement => x !== undefined);
  add('dependencies', deps.length > 0 ? deps : 'none');
  add('dependents', dependents.length > 0 ? dependents : 'none');
  const result = r.results.find((x) => x.key === r.graph.keys[t]);
  if (result) add('result', `${result.preview} (${result.type}${result.bytes !== null ? `, ${result.bytes} bytes` : ''})`);
  if (sessionError !== undefined && sessionError.key === r.graph.keys[t]) add('error', sessionError.message);
  else if (r.error && r.error.key === r.graph.keys[t]) {
    add('error', r.error.message);
    if (r.error.stack) {
      const pre = document.createElement('pre');
      pre.textContent = r.error.stack;
      pane.append(pre);
    }
  }
}

/** Selects a key (or a group name): expands its group if needed, centers it, shows details. */
async function select(query: string): Promise<boolean> {
  const m = model!;
  const t = m.record.graph.keys.indexOf(query);
  const group = t >= 0 ? m.record.graph.groups[t]! : m.groupNames.includes(query) ? query : undefined;
  if (group === undefined) return false;
  if (t >= 0 && !m.expanded.has(group)) {
    m.expanded.add(group);
    await relayout();
  }
  const node = graph!.graph.nodes.find((n) => (t >= 0 ? n.task === t : n.group === group));
  if (node) {
    graph!.selected = node.id;
    graph!.center(node);
  }
  if (t >= 0) showDetails(t);
  return true;
}

async function relayout(): Promise<void> {
  const version = ++layoutVersion;
  const visible = model!.visible();
  await layout(visible);
  if (version !== layoutVersion) return;
  graph!.graph = visible;
  needsFit = !graph!.fit(); // hidden: fit when the graph tab is shown
  graph!.drawNow();
  // when the first complete frame was drawn (ms since the page started; the render benchmark reads it)
  (window as unknown as { skeinFirstFrame?: number }).skeinFirstFrame ??= performance.now();
  save();
  report();
}

function legend(): void {
  const root = $<HTMLDivElement>('legend');
  root.replaceChildren();
  const colorBy = graph!.colorBy;
  const item = (color: string, label: string): void => {
    const s = document.createElement('span');
    s.className = 'item';
    const sw = document.createElement('i');
    sw.style.background = color;
    s.append(sw, label);
    root.append(s);
  };
  // the task stream colours its bars by key group, whatever the graph is coloured by
  if (view === 'workers') for (const g of model!.groupNames.slice(0, 20)) item(groupColor(g), g);
  else if (colorBy === 'state') {
    const colors = stateColors();
    const c = model!.counts();
    for (const st of STATES) item(colors[st], `${st} ${c[st]}`);
  } else if (colorBy === 'group') for (const g of model!.groupNames.slice(0, 20)) item(groupColor(g), g);
  else {
    item('hsl(220,65%,55%)', 'runs first');
    item('hsl(110,65%,55%)', '…');
    item('hsl(0,65%,55%)', 'runs last');
  }
}

function report(): void {
  if (!model) return;
  const shown = $('details').hidden ? null : ($('details').querySelector('h2')?.textContent ?? null);
  // the error the details pane shows, as text (a row labelled "error")
  const errorRow = shown === null ? undefined : [...$('details').querySelectorAll('.row')].find((row) => row.querySelector('.label')?.textContent === 'error');
  const error = errorRow?.lastElementChild?.textContent ?? null;
  host.post({ kind: 'rendered', view, title: document.title, nodes: graph?.graph.nodes.length ?? 0, tasks: model.size, states: model.counts(), selected: shown, bars: stream?.bars.length ?? 0, breakpoints: graph?.breakpoints.size ?? 0, error });
}

/** Called when the tab changes (the dashboard tells its scheduler). */
let onViewChange: (() => void) | undefined;

function showView(next: View): void {
  if (next !== view) hideDetails();
  const changed = next !== view;
  view = next;
  if (changed) onViewChange?.();
  for (const v of VIEWS) {
    $(`view-${v}`).hidden = v !== view;
    $(`tab-${v}`).classList.toggle('active', v === view);
  }
  if (model && graph) legend();
  if (view === 'tasks') taskTable();
  if (view === 'profile') renderFlame($('view-profile'), profile?.intervalMs ?? 0, profile?.root);
  if (view === 'workers') stream?.draw();
  if (view === 'graph') {
    if (needsFit) needsFit = !graph?.fit();
    graph?.drawNow();
  }
  save();
  report();
}

function save(): void {
  if (!model || !graph) return;
  host.setState({ view, colorBy: graph.colorBy, expanded: [...model.expanded] });
}

function render(): void {
  lastRender = performance.now();
  renderTimer = undefined;
  legend();
  graph?.draw();
  if (view === 'workers') stream?.draw();
  if (view === 'cluster') groupProgress();
  if (view === 'tasks' && performance.now() - tasksDrawn > 1000) taskTable();
  $('summary').textContent = summary();
  report();
}

/** Live updates render at most ten times a second. */
function scheduleRender(): void {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(render, Math.max(0, 100 - (performance.now() - lastRender)));
}

function summary(): string {
  const m = model!;
  const c = m.counts();
  const run = m.record.run;
  const done = c.memory + c.released + c.erred;
  // a live cluster has no run length: its tasks come and go
  // the run's one duration (the output, status bar and runs view show the same), else its span
  const ms = run.elapsedMs ?? (run.finishedAt > run.startedAt ? run.finishedAt - run.startedAt : undefined);
  const length = !live && ms !== undefined ? ` · ${formatDuration(ms)}` : '';
  return `${m.size} tasks · ${done} done${c.erred ? ` · ${c.erred} erred` : ''} · ${run.scheduler}${length}`;
}

async function load(record: RunRecord, title: string): Promise<void> {
  // the details of a task of the previous run do not carry over
  hideDetails();
  sessionError = undefined;
  model = new RunModel(record);
  if (saved?.expanded && saved.expanded.every((g) => model!.groupNames.includes(g))) model.expanded = new Set(saved.expanded);
  document.title = title;
  $('title').textContent = title;
  $('collapse-note').textContent = model.size > COLLAPSE_ABOVE ? `${model.size} tasks: groups start collapsed; click a group to expand it` : '';
  if (!graph) {
    graph = new GraphView($<HTMLCanvasElement>('graph-canvas'), model, {
      onHover: (n, x, y) => showTooltip(n ? nodeLines(n) : undefined, x, y),
      onClick: activate,
    });
    graph.colorBy = saved?.colorBy ?? 'state';
    ($<HTMLSelectElement>('color-by')).value = graph.colorBy;
    stream = new StreamView($<HTMLCanvasElement>('stream-canvas'), model, (bar, x, y) => showTooltip(bar ? taskLines(bar.task) : undefined, x, y));
  } else {
    graph.setModel(model);
    stream!.setModel(model);
  }
  $('summary').textContent = summary();
  legend();
  markBreakpoints();
  // a live cluster keeps no run's timings: no overhead view to compute
  if (!live) renderOverhead($('view-overhead'), model);
  await relayout();
  showView(view);
}

/** A node clicked (or Enter on the selected one): a task's details, a group opened or closed; nothing: details closed. */
function activate(n: VisibleNode | undefined): void {
  if (n === undefined) hideDetails();
  else if (n.task >= 0) {
    graph!.selected = n.id;
    graph!.draw();
    showDetails(n.task);
  } else {
    if (model!.expanded.has(n.group)) model!.expanded.delete(n.group);
    else model!.expanded.add(n.group);
    void relayout();
  }
}

/** The keyboard on the graph canvas: arrows move the selection (graphKeys.ts), Enter or Space activates it; said to screen readers. */
function graphKey(e: KeyboardEvent): void {
  if (!model || !graph) return;
  const current = graph.graph.nodes.find((n) => n.id === graph!.selected);
  if ((e.key === 'Enter' || e.key === ' ') && current !== undefined) {
    e.preventDefault();
    activate(current);
    return;
  }
  const next = nodeAfterKey(graph.graph, graph.selected, e.key);
  if (next === undefined) return;
  e.preventDefault();
  graph.selected = next.id;
  graph.center(next);
  const m = model;
  const deps = graph.graph.edges.filter(([, to]) => to === next.id).length;
  const dependents = graph.graph.edges.filter(([from]) => from === next.id).length;
  const what = next.task >= 0 ? `${m.record.graph.keys[next.task]}, group ${next.group}, ${m.states[next.task]}` : `group ${next.group}, ${next.members} tasks, collapsed`;
  $('graph-announce').textContent = `${what}; ${deps} ${deps === 1 ? 'dependency' : 'dependencies'}, ${dependents} ${dependents === 1 ? 'dependent' : 'dependents'}`;
  report();
}

/** The host runs task actions (VS Code). */
let taskActions = false;

/** The error a debug session is paused at (its task's details show it). */
let sessionError: { readonly key: string; readonly message: string } | undefined;

/** The debugger's function breakpoints, as the host last said (key, key group or glob each). */
let breakpointNames: string[] = [];

/** Marks the tasks the breakpoints stand for, resolved as the debugger resolves them (the key, a glob's keys, or a key group's). */
function markBreakpoints(): void {
  if (!model || !graph) return;
  const { keys } = model.record.graph;
  const index = new Map(keys.map((k, t) => [k, t]));
  graph.breakpoints = new Set(breakpointNames.flatMap((name) => tasksNamed(keys, name, (k) => index.get(k))));
  graph.draw();
  report();
}

/** The cluster's sampled profile (undefined: profiling is off). */
let profile: { intervalMs: number; root: ProfileNode | null } | undefined;

/** The graph being loaded (a focus waits for it). */
let loading: Promise<void> = Promise.resolve();

function receive(message: ToWebview): void {
  switch (message.kind) {
    case 'record':
      loading = load(message.record, message.title);
      return;
    case 'transitions':
      if (!model) return;
      model.applyTransitions(message.tasks, message.states);
      // a task the debugger held at its error that moved on (run again): no longer failed
      if (sessionError !== undefined) {
        const t = model.record.graph.keys.indexOf(sessionError.key);
        if (t >= 0 && model.states[t] !== 'erred') sessionError = undefined;
      }
      scheduleRender();
      return;
    case 'taskError':
      sessionError = { key: message.key, message: message.message };
      void loading.then(() => {
        const t = model?.record.graph.keys.indexOf(message.key) ?? -1;
        if (t >= 0 && $('details').querySelector('h2')?.textContent === message.key) showDetails(t);
        report();
      });
      return;
    case 'ended':
      void loading.then(() => {
        if (!model) return;
        model.endRun();
        document.title = message.title;
        $('title').textContent = message.title;
        render();
      });
      return;
    case 'actions':
      taskActions = true;
      return;
    case 'breakpoints':
      breakpointNames = [...message.names];
      markBreakpoints();
      return;
    case 'focus':
      // after the graph it belongs to is drawn
      void loading.then(async () => {
        if (!model) return;
        if (view !== 'graph') showView('graph');
        await select(message.key);
        report();
      });
      return;
    case 'live':
      goLive(message.on);
      if (message.on && view === 'overhead') showView('workers');
      return;
    case 'stream':
      stream?.addBars(message.bars, message.lanes, message.replace === true);
      if (view === 'workers') scheduleRender();
      else report();
      return;
    case 'workers':
      workersTable.update(message.workers);
      if (message.scheduler !== undefined) schedulerLoad.add(message.scheduler);
      groupProgress();
      return;
    case 'profile':
      profile = { intervalMs: message.intervalMs, root: message.root };
      if (view === 'profile') renderFlame($('view-profile'), profile.intervalMs, profile.root);
      return;
    case 'failed':
      renderFailed($('view-failed'), message.tasks);
      $('tab-failed').textContent = '';
      $('tab-failed').append(Object.assign(document.createElement('span'), { className: 'codicon codicon-error' }), ` Failed tasks (${message.tasks.length})`);
      return;
    default: {
      const never: never = message;
      return never;
    }
  }
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  // the exported page takes no messages from other pages; in VS Code they come from the host
  if (typeof acquireVsCodeApi !== 'function' && e.source !== window) return;
  receive(e.data);
});
for (const v of VIEWS) $(`tab-${v}`).addEventListener('click', () => showView(v));
$<HTMLSelectElement>('color-by').addEventListener('change', (e) => {
  graph!.colorBy = (e.target as HTMLSelectElement).value as ColorBy;
  legend();
  graph!.drawNow();
  save();
});
$<HTMLInputElement>('search').addEventListener('keydown', async (e) => {
  if (e.key !== 'Enter') return;
  const input = e.target as HTMLInputElement;
  input.classList.toggle('missing', !(await select(input.value.trim())));
});
$('fit').addEventListener('click', () => {
  hideDetails();
  graph?.fit();
  graph?.drawNow();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') hideDetails();
});
$('graph-canvas').addEventListener('keydown', graphKey);

/**
 * In VS Code, a task's context menu (right-click, or Shift+F10 / the menu key on the selected
 * task) is VS Code's own, filled from the `webview/context` menu: this tells it which task, as
 * `data-vscode-context` on the canvas, before VS Code reads it (capture phase, so first).
 */
window.addEventListener(
  'contextmenu',
  (e) => {
    const canvas = $('graph-canvas');
    if (e.target !== canvas || !taskActions || !model || !graph) return;
    // from the mouse: the node under it; from the keyboard: the one selected
    const node = e.button === 2 ? graph.hit(e.offsetX, e.offsetY) : graph.graph.nodes.find((n) => n.id === graph!.selected);
    if (node === undefined || node.task < 0) {
      canvas.dataset.vscodeContext = JSON.stringify({ preventDefaultContextMenuItems: true });
      return;
    }
    const r = model.record;
    const fn = r.graph.function[node.task]! >= 0 ? r.graph.functions[r.graph.function[node.task]!] : undefined;
    canvas.dataset.vscodeContext = JSON.stringify({
      webviewSection: 'task',
      preventDefaultContextMenuItems: true,
      key: r.graph.keys[node.task],
      graphFile: r.run.graphFile,
      file: fn?.file ?? null,
      line: fn?.line ?? 1,
    });
    if (graph.selected !== node.id) void select(r.graph.keys[node.task]!);
  },
  true,
);
// a theme change (VS Code rewrites the CSS variables and the body's class): draw in its colours now
const repaint = (): void => {
  if (!model) return;
  legend();
  graph?.drawNow();
  if (view === 'workers') stream?.draw();
};
const themeWatch = new MutationObserver(repaint);
themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
themeWatch.observe(document.body, { attributes: true, attributeFilter: ['style', 'class'] });
window.addEventListener('resize', () => {
  graph?.drawNow();
  if (view === 'workers') stream?.draw();
});

// for tests and the render benchmark: the live objects of the page
(window as unknown as Record<string, unknown>).skeinPanel = { get model() { return model; }, get graph() { return graph; }, get stream() { return stream; }, select, showView, receive };

// the Workers tab of a live cluster: its workers, progress by key group, the scheduler's load
const clusterParts = ['cluster-workers', 'cluster-groups', 'cluster-system'].map((id) => Object.assign(document.createElement('div'), { id }));
$('view-cluster').append(...clusterParts);
const workersTable = new WorkersTable(clusterParts[0]!);
const schedulerLoad = new SchedulerLoad(clusterParts[2]!);

let tasksDrawn = 0;

/** The Tasks tab, drawn when shown (and, live, at most once a second). */
function taskTable(): void {
  if (!model) return;
  tasksDrawn = performance.now();
  renderTaskTable($('view-tasks'), model, (key) => {
    showView('graph');
    void select(key);
  }, fmt);
}

function groupProgress(): void {
  if (!live || !model) return;
  const m = model;
  renderGroupProgress(clusterParts[1]!, m.groupNames.map((name, i) => ({ name, counts: m.counts(m.groupMembers[i]) })));
}

/**
 * Served by a scheduler (the dashboard): the same views, fed over a WebSocket, plus the cluster's
 * own tabs; the page's path picks the first tab (/status, /workers, /graph, /failed).
 */
let live = false;

/** Shows a live cluster's tabs (the dashboard, in a browser or inside VS Code), or a run's again. */
function goLive(on = true): void {
  live = on;
  for (const v of ['cluster', 'failed', 'profile'] as const) $(`tab-${v}`).hidden = !on;
  // the lanes view is the cluster's live task stream; the table of workers is the Workers tab
  $('tab-workers').lastChild!.textContent = on ? ' Task stream' : ' Workers';
  $('tab-cluster').lastChild!.textContent = ' Workers';
  // overhead per key group needs a run's full timings, which a live cluster does not keep
  $('tab-overhead').hidden = on;
  if (!on && (view === 'cluster' || view === 'failed' || view === 'profile')) showView('graph');
}

/**
 * A cluster's report (`performanceReport`, `client.profile({ filename })`): what a live page would
 * have been sent, once, with the tabs that have something to show; a run's overhead view too.
 */
function showReport(messages: readonly ToWebview[], title: string, first: View): void {
  const record = messages.some((m) => m.kind === 'record');
  for (const v of VIEWS) $(`tab-${v}`).hidden = !record && v !== 'profile';
  if (record) {
    for (const v of ['cluster', 'failed', 'profile'] as const) $(`tab-${v}`).hidden = false;
    $('tab-workers').lastChild!.textContent = ' Task stream';
    $('tab-cluster').lastChild!.textContent = ' Workers';
  } else {
    document.title = title;
    $('title').textContent = title;
  }
  view = first;
  for (const m of messages) receive(m);
  showView(first);
}

function followScheduler(socketPath: string): void {
  goLive();
  const first: Record<string, View> = { '/status': 'workers', '/workers': 'cluster', '/graph': 'graph', '/failed': 'failed', '/profile': 'profile' };
  view = first[location.pathname] ?? 'cluster';
  showView(view);
  const connect = (): void => {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${socketPath}${location.search}`);
    // the scheduler sends the task stream's bars only while that tab is shown (and all of them when it is opened)
    const sayView = (): void => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ kind: 'view', view } satisfies PageToScheduler));
    };
    socket.addEventListener('open', sayView);
    onViewChange = sayView;
    // each message in a task of its own, so a big graph's parse and its drawing are separate tasks
    socket.addEventListener('message', (e: MessageEvent<string>) => {
      const message = JSON.parse(e.data) as ToWebview;
      setTimeout(() => receive(message), 0);
    });
    // the scheduler went away or restarted: try again, quietly
    socket.addEventListener('close', () => setTimeout(connect, 1000));
  };
  connect();
}

const embedded = document.getElementById('skein-data');
const dashboard = document.getElementById('skein-dashboard');
if (embedded?.textContent) {
  const data = JSON.parse(embedded.textContent) as { record?: RunRecord; title: string; messages?: ToWebview[]; view?: View };
  if (data.messages !== undefined) showReport(data.messages, data.title, data.view ?? 'workers');
  else void load(data.record!, data.title);
} else if (dashboard?.textContent) followScheduler((JSON.parse(dashboard.textContent) as { socket: string }).socket);
else host.post({ kind: 'ready' });
