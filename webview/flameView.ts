/**
 * The Profile tab: the workers' sampled profile as a flame graph (callers on top, callees below,
 * widths by samples), DOM buttons rather than a canvas, so every frame is text that find and
 * screen readers reach and the keyboard can move through. A frame click zooms into it; the path
 * above it zooms back out.
 */
import { type ProfileNode, total } from '../runtime/diagnostics/flame.js';
import { groupColor, textOn } from './colors.js';

/** Frames narrower than this share of the frame zoomed into are not drawn (their time stays in their parent). */
const MIN_SHARE = 0.004;
const ROW_PX = 20;

let zoomPath: string[] = [];
const textCache = new Map<string, { color: string; ratio: number }>();
let measure: CanvasRenderingContext2D | undefined;

const idOf = (n: ProfileNode): string => `${n.name}|${n.file}|${n.line}`;
const shortFile = (file: string): string => file.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
const label = (n: ProfileNode): string => (n.file ? `${n.name} (${shortFile(n.file)}:${n.line})` : n.name);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Draws `root` (null: profiling is on, nothing sampled yet; undefined: profiling is off). */
export function renderFlame(container: HTMLElement, intervalMs: number, root: ProfileNode | null | undefined): void {
  container.replaceChildren();
  if (root === undefined) {
    container.append(el('p', 'Profiling is off. Start the cluster with profile: true (new Client({ profile: true }) or new LocalCluster({ profile: true })) to sample the task code on every worker thread.', 'empty'));
    return;
  }
  const whole = root === null ? 0 : total(root);
  if (root === null || whole === 0) {
    container.append(el('p', 'No samples yet: the profile fills in as the workers run tasks (samples arrive every second or two).', 'empty'));
    return;
  }
  // the frame zoomed into, found again by its path in the newest tree
  const path: ProfileNode[] = [root];
  for (const id of zoomPath) {
    const next = path.at(-1)!.children.find((c) => idOf(c) === id);
    if (next === undefined) break;
    path.push(next);
  }
  zoomPath = path.slice(1).map(idOf);
  const focus = path.at(-1)!;
  const focusTotal = total(focus);
  const ms = (samples: number): string => {
    const t = samples * intervalMs;
    return t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(0)} ms`;
  };
  container.append(el('p', `${whole} samples, about ${ms(whole)} of task code sampled every ${intervalMs} ms on the workers' threads. Click a frame to zoom in; Enter on a focused frame does the same.`));
  const crumbs = el('nav', undefined, 'flame-path');
  crumbs.setAttribute('aria-label', 'Zoomed into');
  path.forEach((n, i) => {
    const b = el('button', i === 0 ? 'all' : n.name, 'crumb');
    b.title = i === 0 ? 'Show the whole profile' : label(n);
    b.addEventListener('click', () => {
      zoomPath = zoomPath.slice(0, i);
      renderFlame(container, intervalMs, root);
    });
    crumbs.append(b);
  });
  container.append(crumbs);
  const chart = el('div', undefined, 'flame');
  chart.setAttribute('role', 'tree');
  chart.setAttribute('aria-label', 'Flame graph');
  measure ??= document.createElement('canvas').getContext('2d')!;
  let depth = 0;
  const place = (n: ProfileNode, left: number, width: number, level: number, chain: string[]): void => {
    const samples = total(n);
    if (samples < MIN_SHARE * focusTotal) return;
    depth = Math.max(depth, level + 1);
    const fill = n.file ? groupColor(n.file + n.name) : 'hsl(0, 0%, 55%)';
    const b = el('button', label(n), 'frame');
    b.setAttribute('role', 'treeitem');
    b.setAttribute('aria-level', String(level + 1));
    b.title = `${label(n)}\n${ms(samples)} (${((samples / whole) * 100).toFixed(1)}% of all), ${ms(n.self)} in itself`;
    b.dataset.name = n.name;
    b.dataset.samples = String(samples);
    Object.assign(b.style, { left: `${left * 100}%`, width: `${width * 100}%`, top: `${level * ROW_PX}px`, background: fill, color: textOn(measure!, fill, textCache).color });
    b.addEventListener('click', () => {
      zoomPath = chain;
      renderFlame(container, intervalMs, root);
    });
    chart.append(b);
    let at = left;
    for (const c of [...n.children].sort((a, b2) => total(b2) - total(a))) {
      const w = (total(c) / samples) * width;
      place(c, at, w, level + 1, [...chain, idOf(c)]);
      at += w;
    }
  };
  place(focus, 0, 1, 0, zoomPath);
  chart.style.height = `${depth * ROW_PX}px`;
  container.append(chart);
}
