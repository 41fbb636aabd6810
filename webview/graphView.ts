/**
 * The graph view: the visible graph on a canvas (pan with drag, zoom with the wheel), nodes
 * coloured by state, key group or execution order; hover for a summary, click for details (a
 * group node expands or collapses).
 */
import { canvasFont, groupColor, orderColor, stateColors, textOn, themeColors } from './colors.js';
import type { RunModel, VisibleGraph, VisibleNode } from './model.js';

export type ColorBy = 'state' | 'group' | 'order';

export interface GraphViewEvents {
  onHover(node: VisibleNode | undefined, x: number, y: number): void;
  /** A node clicked, or undefined for a click on empty canvas. */
  onClick(node: VisibleNode | undefined): void;
}

/** The smallest scale Fit uses: 12 px labels at 10 px on screen. */
const MIN_FIT_SCALE = 10 / 12;

export class GraphView {
  graph: VisibleGraph = { nodes: [], edges: [] };
  colorBy: ColorBy = 'state';
  selected: string | undefined;
  /** Tasks with a breakpoint on them (the debugger's function breakpoints: a key, a group or a glob): a red dot each. */
  breakpoints: ReadonlySet<number> = new Set();
  scale = 1;
  tx = 20;
  ty = 20;
  #ctx: CanvasRenderingContext2D;
  #frame = 0;
  /** Milliseconds the last draw took (the render benchmark reads it). */
  lastDrawMs = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private model: RunModel,
    private readonly events: GraphViewEvents,
  ) {
    this.#ctx = canvas.getContext('2d')!;
    let drag: { x: number; y: number; moved: boolean } | undefined;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (drag) {
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
        this.tx += dx;
        this.ty += dy;
        drag.x = e.clientX;
        drag.y = e.clientY;
        this.draw();
      } else this.events.onHover(this.hit(e.offsetX, e.offsetY), e.clientX, e.clientY);
    });
    canvas.addEventListener('pointerup', (e) => {
      if (drag && !drag.moved) {
        this.events.onClick(this.hit(e.offsetX, e.offsetY));
      }
      drag = undefined;
    });
    canvas.addEventListener('pointerleave', () => this.events.onHover(undefined, 0, 0));
    canvas.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.zoomAt(e.offsetX, e.offsetY, Math.exp(-e.deltaY * 0.0015));
      },
      { passive: false },
    );
  }

  setModel(model: RunModel): void {
    this.model = model;
  }

  zoomAt(x: number, y: number, factor: number): void {
    const next = Math.min(4, Math.max(0.05, this.scale * factor));
    this.tx = x - ((x - this.tx) * next) / this.scale;
    this.ty = y - ((y - this.ty) * next) / this.scale;
    this.scale = next;
    this.draw();
  }

  /** Label colour (and its contrast) per fill colour drawn, for the theme in use (tests read it). */
  readonly labelColors = new Map<string, { color: string; ratio: number }>();

  /** Fits the whole graph in the canvas, but never so small that labels drop under 10 px (then it scrolls). */
  fit(): boolean {
    const { nodes } = this.graph;
    if (nodes.length === 0 || this.canvas.clientWidth === 0) return false;
    const maxX = Math.max(...nodes.map((n) => n.x + n.width));
    const maxY = Math.max(...nodes.map((n) => n.y + n.height));
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    this.scale = Math.min(1.5, Math.max(MIN_FIT_SCALE, Math.min((w - 40) / maxX, (h - 40) / maxY)));
    this.tx = 20;
    this.ty = Math.max(20, (h - maxY * this.scale) / 2);
    return true;
  }

  /** Centers a node. */
  center(node: VisibleNode): void {
    this.tx = this.canvas.clientWidth / 2 - (node.x + node.width / 2) * this.scale;
    this.ty = this.canvas.clientHeight / 2 - (node.y + node.height / 2) * this.scale;
    this.draw();
  }

  hit(x: number, y: number): VisibleNode | undefined {
    const gx = (x - this.tx) / this.scale;
    const gy = (y - this.ty) / this.scale;
    return this.graph.nodes.find((n) => gx >= n.x && gx <= n.x + n.width && gy >= n.y && gy <= n.y + n.height);
  }

  /** Draws on the next animation frame (many calls in a frame draw once). */
  draw(): void {
    if (this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.drawNow();
    });
  }

  drawNow(): void {
    const started = performance.now();
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const ctx = this.#ctx;
    const theme = themeColors();
    const states = stateColors();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.translate(this.tx, this.ty);
    ctx.scale(this.scale, this.scale);
    const byId = new Map(this.graph.nodes.map((n) => [n.id, n]));
    ctx.strokeStyle = theme.muted;
    ctx.globalAlpha = 0.5;
    ctx.lineWidth = 1 / this.scale;
    ctx.beginPath();
    for (const [from, to] of this.graph.edges) {
      const a = byId.get(from);
      const b = byId.get(to);
      if (!a || !b) continue;
      const x1 = a.x + a.width;
      const y1 = a.y + a.height / 2;
      const x2 = b.x;
      const y2 = b.y + b.height / 2;
      ctx.moveTo(x1, y1);
      ctx.bezierCurveTo((x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    const order = this.model.record.graph.order;
    const detail = this.scale > 0.35;
    this.labelColors.clear(); // the theme may have changed
    ctx.font = canvasFont(12);
    ctx.textBaseline = 'middle';
    for (const n of this.graph.nodes) {
      const members = n.tasks;
      let fill: string;
      if (this.colorBy === 'group') fill = groupColor(n.group);
      else if (this.colorBy === 'order') fill = orderColor(n.task >= 0 ? order[n.task]! : order[members[0]!]!, this.model.size);
      else fill = states[n.task >= 0 ? this.model.states[n.task]! : dominant(this.model.counts(members))];
      ctx.fillStyle = fill;
      ctx.beginPath();
      ctx.roundRect(n.x, n.y, n.width, n.height, 5);
      ctx.fill();
      if (n.id === this.selected) {
        ctx.strokeStyle = theme.accent;
        ctx.lineWidth = 2.5 / this.scale;
        ctx.stroke();
      }
      if (n.task < 0) {
        // progress of a group: finished share
        const c = this.model.counts(members);
        const done = (c.memory + c.released + c.erred) / n.members;
        ctx.fillStyle = 'rgba(0,0,0,0.35)';
        ctx.fillRect(n.x + 6, n.y + n.height - 7, n.width - 12, 3);
        ctx.fillStyle = theme.fg;
        ctx.fillRect(n.x + 6, n.y + n.height - 7, (n.width - 12) * done, 3);
      }
      if (members.some((t) => this.breakpoints.has(t))) {
        // as the editor's gutter marks one: a red dot, here at the node's top left corner
        ctx.fillStyle = theme.breakpoint;
        ctx.beginPath();
        ctx.arc(n.x + 1, n.y + 1, 5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.strokeStyle = theme.bg;
        ctx.lineWidth = 1.5 / this.scale;
        ctx.stroke();
      }
      if (detail) {
        ctx.fillStyle = textOn(ctx, fill, this.labelColors).color;
        ctx.fillText(truncate(n.label, n.width / 7), n.x + 8, n.y + (n.task < 0 ? 13 : n.height / 2));
      }
    }
    this.lastDrawMs = performance.now() - started;
  }
}

function truncate(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, Math.max(1, Math.floor(chars) - 1))}…` : text;
}

/** The state a group shows: erred wins, then running, then what most members are. */
function dominant(c: Record<string, number>): 'waiting' | 'ready' | 'running' | 'memory' | 'released' | 'erred' {
  if (c.erred! > 0) return 'erred';
  if (c.running! > 0) return 'running';
  let best: string = 'waiting';
  for (const [k, v] of Object.entries(c)) if (v > c[best]!) best = k;
  return best as 'waiting';
}
