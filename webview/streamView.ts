/**
 * The task stream: a lane per worker thread or process, a bar per task from the moment its
 * function started to the moment it returned, coloured by key group; gaps are idle time. The
 * wheel zooms the time axis, dragging pans it; hovering a bar shows its phases.
 */
import { canvasFont, groupColor, themeColors } from './colors.js';
import type { RunModel } from './model.js';

const LANE = 28;
const AXIS = 24;
const LABEL = 110;

export interface Bar {
  readonly task: number;
  readonly lane: number;
  readonly start: number;
  readonly end: number;
  /** Drawn from the run's record (not added live by a dashboard). */
  readonly fromRecord: boolean;
}

export class StreamView {
  bars: Bar[] = [];
  #t0 = 0;
  #span = 1;
  /** Visible window: ms from the run's start. */
  from = 0;
  to = 1;
  #ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private model: RunModel,
    onHover: (bar: Bar | undefined, x: number, y: number) => void,
  ) {
    this.#ctx = canvas.getContext('2d')!;
    this.setModel(model);
    let drag: number | undefined;
    canvas.addEventListener('pointerdown', (e) => (drag = e.clientX));
    canvas.addEventListener('pointerup', () => (drag = undefined));
    canvas.addEventListener('pointermove', (e) => {
      if (drag !== undefined) {
        const dt = ((e.clientX - drag) / this.#plotWidth()) * (this.to - this.from);
        this.from -= dt;
        this.to -= dt;
        drag = e.clientX;
        this.draw();
      } else onHover(this.hit(e.offsetX, e.offsetY), e.clientX, e.clientY);
    });
    canvas.addEventListener('pointerleave', () => onHover(undefined, 0, 0));
    canvas.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const at = this.from + ((e.offsetX - LABEL) / this.#plotWidth()) * (this.to - this.from);
        const f = Math.exp(e.deltaY * 0.0015);
        this.from = at - (at - this.from) * f;
        this.to = at + (this.to - at) * f;
        this.draw();
      },
      { passive: false },
    );
  }

  /** Lane names: the record's workers, and lanes a live dashboard adds. */
  #laneNames: string[] = [];
  /** Per lane, the part of the worker's start-up inside the run (ms from its start), if any. */
  startups: Array<readonly [number, number] | undefined> = [];

  setModel(model: RunModel): void {
    this.model = model;
    const { tasks, run } = model.record;
    this.#laneNames = model.record.workers.map((w) => w.name);
    this.#t0 = run.startedAt;
    // a worker that was still starting during the run: its start-up, drawn on its lane (from the run's start)
    this.startups = model.record.workers.map((w) => (w.startup !== undefined && w.startup[1] > run.startedAt ? ([Math.max(w.startup[0], run.startedAt) - run.startedAt, w.startup[1] - run.startedAt] as const) : undefined));
    this.bars = [];
    for (let t = 0; t < model.size; t++) {
      const s = tasks.started[t];
      const f = tasks.finished[t];
      const lane = tasks.worker[t]!;
      if (s == null || f == null || lane < 0) continue;
      this.bars.push({ task: t, lane, start: s - this.#t0, end: f - this.#t0, fromRecord: true });
    }
    this.#span = Math.max(1, run.finishedAt - run.startedAt);
    // open on the time tasks ran, and the start-up of workers that were starting meanwhile
    // a loop, not Math.min(...bars): spreading 200,000 arguments overflows the stack
    let first = this.bars.length > 0 ? Infinity : 0;
    let last = this.bars.length > 0 ? -Infinity : this.#span;
    for (const b of this.bars) {
      if (b.start < first) first = b.start;
      if (b.end > last) last = b.end;
    }
    for (const s of this.startups) if (s !== undefined && s[0] < first) first = s[0];
    const pad = Math.max(0.05, (last - first) * 0.03);
    this.from = Math.max(0, first - pad);
    this.to = last + pad;
    this.#last = this.bars.length > 0 ? last : 0;
  }

  get lanes(): number {
    return this.#laneNames.length;
  }

  /** Bars of tasks that just ran (dashboard): times from the record's start; the view follows the newest. */
  addBars(bars: ReadonlyArray<readonly [task: number, start: number, end: number, lane: number]>, lanes: readonly string[], replace = false): void {
    this.#laneNames = [...lanes];
    // every bar since the graph was sent (the tab was just opened): instead of the ones held
    if (replace) this.bars = this.bars.filter((b) => b.fromRecord);
    const following = this.to >= this.#last;
    for (const [task, start, end, lane] of bars) {
      this.bars.push({ task, lane, start, end, fromRecord: false });
      if (end > this.#last) this.#last = end;
    }
    if (following || this.bars.length === bars.length) {
      // keep the latest ten seconds in view, as the task stream of a live cluster
      this.to = this.#last + 50;
      this.from = Math.max(0, Math.min(this.from, this.to - 10_000), this.to - 10_000);
    }
  }

  #last = 0;

  #plotWidth(): number {
    return Math.max(10, this.canvas.clientWidth - LABEL - 10);
  }

  hit(x: number, y: number): Bar | undefined {
    const lane = Math.floor((y - AXIS) / LANE);
    const t = this.from + ((x - LABEL) / this.#plotWidth()) * (this.to - this.from);
    const slack = (3 / this.#plotWidth()) * (this.to - this.from);
    return this.bars.find((b) => b.lane === lane && t >= b.start - slack && t <= b.end + slack);
  }

  draw(): void {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = Math.max(canvas.clientHeight, AXIS + this.lanes * LANE + 10);
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    const ctx = this.#ctx;
    const theme = themeColors();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pw = this.#plotWidth();
    const x = (ms: number): number => LABEL + ((ms - this.from) / (this.to - this.from)) * pw;
    ctx.font = canvasFont(11);
    ctx.fillStyle = theme.muted;
    ctx.textBaseline = 'middle';
    // time axis
    const step = niceStep((this.to - this.from) / 8);
    for (let t = Math.ceil(this.from / step) * step; t <= this.to; t += step) {
      ctx.fillRect(x(t), AXIS - 6, 1, 6);
      ctx.fillText(`${t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(step < 1 ? 2 : 0)} ms`}`, x(t) + 3, AXIS - 12);
    }
    this.#laneNames.forEach((name, i) => {
      ctx.fillStyle = theme.fg;
      ctx.fillText(name, 6, AXIS + i * LANE + LANE / 2);
      ctx.fillStyle = theme.line;
      ctx.fillRect(LABEL, AXIS + (i + 1) * LANE - 1, pw, 1);
    });
    this.startups.forEach((s, lane) => {
      if (s === undefined) return;
      const x1 = Math.max(LABEL, x(s[0]));
      const x2 = Math.min(w, x(s[1]));
      if (x2 <= x1) return;
      // the worker's own time, not a task's: an outline in the muted colour, labelled where it fits
      ctx.strokeStyle = theme.muted;
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x1 + 0.5, AXIS + lane * LANE + 4.5, x2 - x1 - 1, LANE - 9);
      ctx.setLineDash([]);
      ctx.fillStyle = theme.muted;
      if (x2 - x1 > 60) ctx.fillText('start-up', x1 + 6, AXIS + lane * LANE + LANE / 2);
    });
    for (const b of this.bars) {
      const x1 = x(b.start);
      const x2 = Math.max(x1 + 1, x(b.end));
      if (x2 < LABEL || x1 > w) continue;
      ctx.fillStyle = groupColor(this.model.record.graph.groups[b.task]!);
      ctx.fillRect(Math.max(LABEL, x1), AXIS + b.lane * LANE + 4, x2 - Math.max(LABEL, x1), LANE - 8);
    }
  }
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
