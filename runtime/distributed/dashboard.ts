/**
 * The dashboard: the graph panel app (webview/), served live by the scheduler. One HTTP page
 * (the app with its styles and fonts inlined, as `skein visualize` writes it) and one WebSocket
 * for updates; nothing else is served, so no path can reach a file.
 *
 * It costs nothing while nobody watches. With a page open it sends the cluster's graph once per
 * change of the task set (at most every half second), then only what changed: the newest state of
 * each task that moved, read from the scheduler's transition log at most ten times a second, the
 * workers' figures once a second, and the failed tasks when one fails.
 *
 * On 127.0.0.1 it needs nothing; on any other address it refuses to start without a token, which
 * the link carries and every request must show.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import type { Duplex } from 'node:stream';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { WebSocket, WebSocketServer } from 'ws';
import { STATE_CODES, TASK_STATES as PANEL_STATES } from '../core/taskStates.js';
import { Errors } from '../errors.js';
import { keyGroup } from '../graph/spec.js';
import { RECORD_FORMAT, RECORD_VERSION, type RunRecord } from '../diagnostics/record.js';
import type { FunctionInfo } from '../diagnostics/recordSchema.js';
import { clock } from '../core/timings.js';
import { cpuMeter } from '../diagnostics/resources.js';
import { type ProfileNode, trimmed } from '../diagnostics/flame.js';
import { SKEIN_VERSION } from '../version.js';
import type { SchedulerState, TaskState, TaskStateName } from './schedulerState.js';
import type { TaskStreamEntry } from './protocol.js';
import type { FnRef } from '../workers/protocol.js';
import type { DashboardFailed, DashboardWorker, PageToScheduler, SchedulerSample, ToWebview } from '../../webview/protocol.js';

export interface DashboardOptions {
  /** `host:port` to listen on (default 127.0.0.1:8787; the next free port when it is taken). */
  readonly address?: string;
  /** Needed beyond loopback: the link carries it, and every request must show it. */
  readonly token?: string;
  /** The workers' sampled profile (Scheduler.profile), for the Profile page. */
  readonly profile?: { readonly on: boolean; readonly intervalMs: number; readonly root: ProfileNode; readonly version: number };
}

/** The dashboard's default port, as Dask's. */
export const DASHBOARD_PORT = 8787;
/** Ports tried after the one asked for, when it is taken. */
const PORT_TRIES = 50;
const TICK_MS = 100;
const GRAPH_EVERY_MS = 500;
const WORKERS_EVERY_MS = 1000;
/** Forgotten tasks leave the page this long after the last one (one new graph for a batch of them). */
const FORGET_AFTER_MS = 2000;

/** The panel's state for each of the scheduler's (the panel knows six, as the local schedulers). */
const PANEL_STATE: Record<TaskStateName, (typeof PANEL_STATES)[number]> = {
  released: 'released',
  waiting: 'waiting',
  'no-worker': 'waiting',
  queued: 'ready',
  processing: 'running',
  memory: 'memory',
  erred: 'erred',
  forgotten: 'released',
};
/** The panel's one-character code (as a char code) of each of the scheduler's states. */
const CODE_OF = Object.fromEntries(Object.entries(PANEL_STATE).map(([k, v]) => [k, STATE_CODES.charCodeAt(PANEL_STATES.indexOf(v))])) as Record<TaskStateName, number>;

/** The page's tab that shows the task stream (the app's 'workers' view). */
const STREAM_VIEW = 'workers';

/** The Profile page gets the profile at most this often (ms). */
const PROFILE_EVERY_MS = 2000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `host:port` → its parts (port 8787 when absent). */
export function parseDashboardAddress(address: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)?(?::(\d+))?$/.exec(address.trim());
  if (!m) throw new TypeError(`dashboardAddress must be 'host:port' (for example '127.0.0.1:8787'), got ${JSON.stringify(address)}`);
  return { host: m[1] ?? '127.0.0.1', port: m[2] === undefined ? DASHBOARD_PORT : Number(m[2]) };
}

export class Dashboard {
  readonly #server: Server;
  /** Loaded with the first page: a cluster nobody watches pays for neither. */
  #sockets: Promise<WebSocketServer> | undefined;
  #page: Promise<string> | undefined;
  readonly #watchers = new Set<WebSocket>();
  #timer: NodeJS.Timeout | undefined;
  /** Where the last look at the scheduler's log stopped. */
  #cursor = 0;
  /** Task number of each key in the graph last sent. */
  #index = new Map<string, number>();
  #graphSentAt = 0;
  /** The log names tasks the page has not seen: the graph is sent again. */
  #unseen = true;
  /** When the last task the page shows was forgotten (0: none since the graph was sent). */
  #forgottenAt = 0;
  /** Per task of the graph sent: the code of its newest state this tick (0: none). */
  #codes = new Uint8Array(0);
  /** Tasks in memory (kept from the log). */
  #memory = 0;
  #workersSentAt = 0;
  #failedSent = -1;
  /** The profile version last sent, and when. */
  #profileSent = -1;
  #profileSentAt = 0;
  /** Each page's tab (what it said last). */
  readonly #views = new Map<WebSocket, string>();
  /** The task stream's bars since the graph was last sent (for a page that opens its task stream). */
  #bars: Array<[number, number, number, number]> = [];
  /** Task stream lanes: every worker thread seen, in the order first seen. */
  readonly #lanes = new Map<string, number>();
  readonly #startedAt = Date.now();
  /** The scheduler's own load, measured only while a page watches. */
  #loop: IntervalHistogram | undefined;
  readonly #cpu = cpuMeter();
  link = '';

  private constructor(
    readonly state: SchedulerState,
    readonly token: string | undefined,
    readonly profile: DashboardOptions['profile'],
  ) {
    this.#server = createServer((request, response) => void this.#serve(request, response));
    // a page left open in a browser never keeps the user's program from ending
    this.#server.on('connection', (socket) => socket.unref());
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(request, socket, head));
  }

  #socketServer(): Promise<WebSocketServer> {
    this.#sockets ??= import('ws').then(({ WebSocketServer }) => new WebSocketServer({ noServer: true }));
    return this.#sockets;
  }

  /** Starts serving `state`; rejects on a public address without a token. */
  static async start(state: SchedulerState, options: DashboardOptions = {}): Promise<Dashboard> {
    const { host, port } = parseDashboardAddress(options.address ?? `127.0.0.1:${DASHBOARD_PORT}`);
    if (!LOOPBACK.has(host) && !options.token) throw Errors.dashboardNeedsToken(host);
    const dashboard = new Dashboard(state, options.token, options.profile);
    const bound = await dashboard.#listen(host.replace(/^\[|\]$/g, ''), port);
    const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    dashboard.link = `http://${shown}:${bound}${dashboard.#statusPath()}`;
    return dashboard;
  }

  /** The first page's path, with the token when there is one. */
  #statusPath(): string {
    return `/status${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`;
  }

  /** Pages following this dashboard now. */
  get watching(): number {
    return this.#watchers.size;
  }

  /** A token for a dashboard on a public address. */
  static newToken(): string {
    return randomBytes(18).toString('base64url');
  }

  async #listen(host: string, first: number): Promise<number> {
    for (let port = first; ; port++) {
      try {
        await new Promise<void>((resolve, reject) => {
          const failed = (error: Error): void => reject(error);
          this.#server.once('error', failed);
          this.#server.listen(port, host, () => {
            this.#server.off('error', failed);
            resolve();
          });
        });
        this.#server.unref();
        return (this.#server.address() as { port: number }).port;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' || first === 0 || port >= first + PORT_TRIES) throw error;
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#loop?.disable();
    for (const ws of this.#watchers) ws.terminate();
    (await this.#sockets)?.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #allowed(request: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const given = Buffer.from(new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? '');
    const wanted = Buffer.from(this.token);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (!this.#allowed(request)) return void response.writeHead(403, { 'content-type': 'text/plain' }).end('This dashboard needs the token its link carries.\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return void response.writeHead(405, { allow: 'GET' }).end();
    if (path === '/') return void response.writeHead(302, { location: this.#statusPath() }).end();
    // one page, a tab each: nothing else is served
    if (!['/status', '/workers', '/graph', '/failed', '/profile'].includes(path)) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
    this.#page ??= dashboardPage();
    const page = await this.#page;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(request.method === 'HEAD' ? undefined : page);
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (new URL(request.url ?? '/', 'http://x').pathname !== '/ws' || !this.#allowed(request)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const sockets = await this.#socketServer();
    sockets.handleUpgrade(request, socket, head, (ws) => this.#watch(ws));
  }

  #watch(ws: WebSocket): void {
    this.#watchers.add(ws);
    ws.on('message', (data) => {
      let message: PageToScheduler;
      try {
        message = JSON.parse(String(data)) as PageToScheduler;
      } catch {
        return;
      }
      if (message.kind !== 'view' || typeof message.view !== 'string') return;
      const before = this.#views.get(ws);
      this.#views.set(ws, message.view);
      // the task stream just opened: every bar since the graph was sent
      if (message.view === STREAM_VIEW && before !== STREAM_VIEW && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ kind: 'stream', bars: this.#bars, lanes: [...this.#lanes.keys()], replace: true } satisfies ToWebview));
    });
    ws.on('close', () => {
      this.#watchers.delete(ws);
      this.#views.delete(ws);
      if (this.#watchers.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#loop?.disable();
        this.#loop = undefined;
      }
    });
    ws.on('error', () => ws.terminate());
    // a newcomer gets the whole picture once; everyone then gets what changes
    this.#unseen = true;
    this.#graphSentAt = 0;
    this.#failedSent = -1;
    this.#workersSentAt = 0;
    this.#profileSent = -1;
    if (this.#loop === undefined) {
      this.#loop = monitorEventLoopDelay({ resolution: 10 });
      this.#loop.enable();
    }
    this.#tick();
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  #sample(): SchedulerSample {
    const cpu = this.#cpu();
    const loopDelayMs = this.#loop === undefined || this.#loop.count === 0 ? 0 : this.#loop.percentile(99) / 1e6;
    this.#loop?.reset();
    return { time: Date.now(), cpu, memory: process.memoryUsage.rss(), loopDelayMs };
  }

  #send(message: ToWebview): void {
    let text: string | undefined;
    for (const ws of this.#watchers) {
      if (ws.readyState !== ws.OPEN) continue;
      // the task stream's bars only to pages that show it (or never said what they show)
      if (message.kind === 'stream') {
        const view = this.#views.get(ws);
        if (view !== undefined && view !== STREAM_VIEW) continue;
      }
      ws.send((text ??= JSON.stringify(message)));
    }
  }

  #tick(): void {
    const now = Date.now();
    const log = this.state.log;
    const base = this.state.logStart;
    // entries trimmed from the log before this page read them: it gets the whole graph again
    if (this.#cursor < base) {
      this.#cursor = base;
      this.#unseen = true;
    }
    // the newest state of each task that moved, without a map: a code per task, a list of those set
    const moved: number[] = [];
    const ran: Array<[number, number, number, number]> = [];
    const lanes = this.#lanes.size;
    let erred = false;
    for (; this.#cursor < base + log.length; this.#cursor++) {
      const entry = log[this.#cursor - base]!;
      if (entry.from === 'memory') this.#memory--;
      if (entry.to === 'memory') this.#memory++;
      else if (entry.to === 'erred') erred = true;
      const t = this.#index.get(entry.key);
      if (t === undefined) {
        this.#unseen = true; // a task the page has not seen
        continue;
      }
      if (this.#codes[t] === 0) moved.push(t);
      this.#codes[t] = CODE_OF[entry.to];
      if (entry.to === 'forgotten') this.#forgottenAt = now;
      else if (entry.to === 'memory' || entry.to === 'erred') {
        const stamps = this.state.tasks.get(entry.key)?.ran;
        if (stamps !== undefined) ran.push([t, stamps.start - this.#startedAt, stamps.end - this.#startedAt, laneOf(this.#lanes, stamps.thread)]);
      }
    }
    // a new graph at once (at most every half second); forgotten tasks leave once things are quiet
    const forgottenLeave = this.#forgottenAt > 0 && now - this.#forgottenAt >= FORGET_AFTER_MS;
    if ((this.#unseen && now - this.#graphSentAt >= GRAPH_EVERY_MS) || forgottenLeave) {
      this.#unseen = false;
      this.#forgottenAt = 0;
      this.#graphSentAt = now;
      const record = clusterRecord(this.state, this.#startedAt, this.#lanes);
      this.#index = new Map(record.graph.keys.map((k, i) => [k, i]));
      this.#codes = new Uint8Array(record.graph.keys.length);
      this.#memory = record.tasks.status.filter((st) => st === 'memory').length;
      this.#bars = []; // the record carries the runs so far
      this.#send({ kind: 'record', record, title: 'Skein dashboard' });
    } else {
      if (moved.length > 0) {
        const states = moved.map((t) => String.fromCharCode(this.#codes[t]!)).join('');
        this.#send({ kind: 'transitions', tasks: moved, states, done: this.#memory, total: this.#index.size });
      }
      for (const bar of ran) this.#bars.push(bar);
      if (ran.length > 0 || this.#lanes.size !== lanes) this.#send({ kind: 'stream', bars: ran, lanes: [...this.#lanes.keys()] });
    }
    for (const t of moved) if (t < this.#codes.length) this.#codes[t] = 0;
    if (now - this.#workersSentAt >= WORKERS_EVERY_MS) {
      this.#workersSentAt = now;
      this.#send({ kind: 'workers', workers: workersOf(this.state), scheduler: this.#sample() });
    }
    // the profile, when the workers sent samples (at most every two seconds; branches under 0.1% folded into their parent)
    const profile = this.profile;
    if (profile !== undefined && profile.on && profile.version !== this.#profileSent && (this.#profileSent < 0 || now - this.#profileSentAt >= PROFILE_EVERY_MS)) {
      this.#profileSent = profile.version;
      this.#profileSentAt = now;
      this.#send({ kind: 'profile', intervalMs: profile.intervalMs, root: profile.version === 0 ? null : trimmed(profile.root, 0.001) });
    }
    // the failed tasks, looked for only when one failed (or a page is new)
    const failed = erred || this.#failedSent < 0 ? failedOf(this.state) : undefined;
    if (failed !== undefined && failed.length !== this.#failedSent) {
      this.#failedSent = failed.length;
      this.#send({ kind: 'failed', tasks: failed });
    }
  }
}

/** The task stream lane of a worker thread: the one it has, or the next, in the order first seen. */
function laneOf(lanes: Map<string, number>, thread: string): number {
  let lane = lanes.get(thread);
  if (lane === undefined) lanes.set(thread, (lane = lanes.size));
  return lane;
}

/**
 * The functions tasks call (each task's first, by module URL and export name) as a record's table:
 * each function once, and per task its number in the table (-1: none).
 */
function functionTable(refs: ReadonlyArray<FnRef | undefined>): { functions: FunctionInfo[]; function: number[] } {
  const functions: FunctionInfo[] = [];
  // by module, then by name: no string built per task
  const index = new Map<string, Map<string, number>>();
  const fnOfTask = refs.map((ref) => {
    if (ref === undefined) return -1;
    let byName = index.get(ref[0]);
    if (byName === undefined) index.set(ref[0], (byName = new Map()));
    let i = byName.get(ref[1]);
    if (i === undefined) {
      i = functions.length;
      functions.push({ name: ref[1], file: ref[0].startsWith('file:') ? decodeURIComponent(new URL(ref[0]).pathname) : ref[0], line: null });
      byName.set(ref[1], i);
    }
    return i;
  });
  return { functions, function: fnOfTask };
}

/**
 * The scheduler's tasks as a run record the panel draws: the graph, each task's state, and when
 * and where each one that ran last ran (times from `startedAt`, a lane per worker thread).
 */
export function clusterRecord(state: SchedulerState, startedAt: number, lanes: Map<string, number>): RunRecord {
  const all = [...state.tasks.values()];
  const index = new Map<TaskState, number>();
  all.forEach((ts, i) => index.set(ts, i));
  const { functions, function: fnOfTask } = functionTable(all.map((ts) => ts.spec.fns[0]));
  // the scheduler's priorities, as ranks (0 runs first)
  const priority = Float64Array.from(all, (ts) => ts.spec.priority);
  const ranks = Uint32Array.from(all, (_, i) => i).sort((a, b) => priority[a]! - priority[b]!);
  const order = new Array<number>(all.length);
  ranks.forEach((t, rank) => (order[t] = rank));
  const none = (): null[] => new Array<null>(all.length).fill(null);
  const now = Date.now();
  const started = all.map((ts) => (ts.ran === undefined ? null : ts.ran.start));
  const finished = all.map((ts) => (ts.ran === undefined ? null : ts.ran.end));
  const worker = all.map((ts) => (ts.ran === undefined ? -1 : laneOf(lanes, ts.ran.thread)));
  return {
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    skeinVersion: SKEIN_VERSION,
    createdAt: new Date(now).toISOString(),
    run: { graphFile: null, scheduler: 'distributed', numWorkers: state.workers.size, keys: [], startedAt, finishedAt: now, status: 'ok', cpus: availableParallelism(), node: process.version },
    graph: {
      keys: all.map((ts) => ts.key),
      groups: all.map((ts) => keyGroup(ts.key)),
      dependencies: all.map((ts) => {
        const out: number[] = [];
        for (const d of ts.dependencies) {
          const i = index.get(d);
          if (i !== undefined) out.push(i);
        }
        return out;
      }),
      order,
      functions,
      function: fnOfTask,
    },
    tasks: { status: all.map((ts) => PANEL_STATE[ts.state]), ready: none(), dispatched: none(), started, finished, received: none(), released: none(), erred: none(), worker, resultBytes: none() },
    workers: [...lanes.keys()].map((name) => ({ name, kind: 'thread' as const })),
    resources: [],
    results: [],
    error: null,
  };
}

function workersOf(state: SchedulerState): DashboardWorker[] {
  const now = clock();
  return [...state.workers.values()].map((ws) => ({
    address: ws.address,
    name: ws.name,
    pid: ws.pid,
    nthreads: ws.nthreads,
    memory: ws.memory,
    memoryLimit: ws.memoryLimit,
    managed: ws.managed,
    spilled: ws.spilled,
    paused: ws.paused,
    cpu: ws.cpu,
    processing: ws.processing.size,
    executing: ws.executing,
    keys: ws.hasWhat.size,
    lastSeenMs: Math.max(0, Math.round(now - ws.lastSeen)),
    received: state.receivedByName(ws),
  }));
}

/** What `performanceReport` shows of a time span, as the scheduler knows it (the profile is the client's to subtract). */
export interface PerformanceData {
  /** The tasks that ran since the start: the graph they form, when and where each ran, its overhead. */
  readonly record: RunRecord;
  /** The workers at the end, each with its memory at every heartbeat since the start and the bytes it fetched from each other worker. */
  readonly workers: DashboardWorker[];
  readonly failed: DashboardFailed[];
}

/**
 * The run record of the tasks that ran since `since` (ms since the epoch), from the task stream
 * (which outlives released tasks) and the transition log: when each became ready, was handed to
 * a worker, ran, and was back in memory, so the panel's overhead view works as for a local run.
 */
export function performanceData(state: SchedulerState, since: number): PerformanceData {
  const runs = new Map<string, TaskStreamEntry>();
  for (const e of state.taskStream) if (e.start >= since) runs.set(e.key, e);
  const keys = [...runs.keys()];
  const index = new Map(keys.map((k, i) => [k, i]));
  const n = keys.length;
  const ready = new Array<number | null>(n).fill(null);
  const dispatched = new Array<number | null>(n).fill(null);
  const received = new Array<number | null>(n).fill(null);
  // the last of each since the start: a task that ran twice shows its last run
  for (const entry of state.log) {
    if (entry.time < since) continue;
    const t = index.get(entry.key);
    if (t === undefined) continue;
    if (entry.to === 'queued' || (entry.to === 'processing' && entry.from === 'waiting')) ready[t] = entry.time;
    if (entry.to === 'processing') dispatched[t] = entry.time;
    if (entry.to === 'memory' || entry.to === 'erred') received[t] = entry.time;
  }
  const lanes = new Map<string, number>();
  const { functions, function: fnOfTask } = functionTable(keys.map((k) => state.tasks.get(k)?.spec.fns[0]));
  const entries = [...runs.values()];
  const record: RunRecord = {
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    skeinVersion: SKEIN_VERSION,
    createdAt: new Date().toISOString(),
    run: { graphFile: null, scheduler: 'distributed', numWorkers: state.workers.size, keys: [], startedAt: since, finishedAt: Date.now(), status: entries.some((e) => e.status === 'erred') ? 'erred' : 'ok', cpus: availableParallelism(), node: process.version },
    graph: {
      keys,
      groups: keys.map((k) => keyGroup(k)),
      // the dependencies among these tasks the scheduler still knows
      dependencies: keys.map((k) => (state.tasks.get(k)?.dependencies ?? []).map((d) => index.get(d.key)).filter((i): i is number => i !== undefined)),
      order: keys.map((_, i) => i),
      functions,
      function: fnOfTask,
    },
    tasks: {
      status: entries.map((e) => e.status),
      ready,
      dispatched,
      started: entries.map((e) => e.start),
      finished: entries.map((e) => e.end),
      received,
      released: new Array<null>(n).fill(null),
      erred: entries.map((e, t) => (e.status === 'erred' ? received[t]! : null)),
      worker: entries.map((e) => laneOf(lanes, e.thread)),
      resultBytes: keys.map((k) => state.tasks.get(k)?.nbytes ?? null),
    },
    workers: [...lanes.keys()].map((name) => ({ name, kind: 'thread' as const })),
    resources: [],
    results: [],
    error: null,
  };
  const workers = workersOf(state).map((w) => ({ ...w, history: (state.workers.get(w.address)?.history ?? []).filter(([time]) => time >= since) }));
  return { record, workers, failed: failedOf(state).filter((f) => runs.has(f.key)) };
}

function failedOf(state: SchedulerState): DashboardFailed[] {
  const out: DashboardFailed[] = [];
  for (const ts of state.tasks.values()) {
    if (ts.state !== 'erred' || ts.erredBecause !== ts.key || ts.exception === undefined) continue;
    out.push({ key: ts.key, error: `${ts.exception.name}: ${ts.exception.message}`, worker: ts.erredOn ?? null, stack: ts.exception.stack ?? null });
  }
  return out;
}

/** The dashboard page: the panel app with everything inlined, told to follow the WebSocket. */
async function dashboardPage(): Promise<string> {
  const { inlinedPanelPage } = await import('../diagnostics/visualize.js');
  return inlinedPanelPage('Skein dashboard', '<script type="application/json" id="skein-dashboard">{"socket":"/ws"}</script>', "'self'");
}
