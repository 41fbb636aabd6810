/**
 * Configuration: one system, Dask's precedence, lowest first:
 *
 *   defaults < files (~/.config/skein/*.json|yaml, ./skein.config.json|yaml)
 *            < environment (SKEIN_NUM_WORKERS, nested keys with `__`)
 *            < config.set() (global; returns a disposable, so `using _ = config.set(...)` scopes it)
 *            < withConfig(cfg, fn) (async-context scoped: survives awaits, isolated per call chain)
 *            < per-call options (compute(x, {scheduler: 'sync'}))
 *
 * Keys are camelCase; nested keys are written with dots (`batching.maxTasks`), as nested objects
 * in files and in `set`, and with `__` in the environment (`SKEIN_BATCHING__MAX_TASKS`).
 * Every value is validated where it enters, and an error names its source.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Errors, closest } from '../errors.js';
import type { Callback } from './callbacks.js';

export const SCHEDULERS = ['sync', 'threads', 'processes', 'distributed'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/** A scheduler's name as configuration takes it: Skein's, or Dask's names for the same (`'synchronous'`, `'threading'`, ...). */
export type SchedulerSpec = SchedulerName | 'synchronous' | 'single-threaded' | 'threading' | 'multiprocessing' | 'dask.distributed';

const SCHEDULER_ALIASES: Readonly<Record<SchedulerSpec, SchedulerName>> = {
  sync: 'sync',
  synchronous: 'sync',
  'single-threaded': 'sync',
  threads: 'threads',
  threading: 'threads',
  processes: 'processes',
  multiprocessing: 'processes',
  distributed: 'distributed',
  'dask.distributed': 'distributed',
};

/** The merged configuration a run uses. */
export interface SkeinConfig {
  /** Which scheduler runs the graph. */
  scheduler: SchedulerName;
  /** Worker threads or processes; `null` means one per CPU. */
  numWorkers: number | null;
  /** Threads per worker process (processes and distributed schedulers). */
  threadsPerWorker: number;
  /** A task running longer than this is stopped and fails (`null`: no limit). */
  taskTimeoutMs: number | null;
  /** Re-run a failed task in the calling thread so a debugger stops in it. */
  rerunExceptionsLocally: boolean;
  /** Check the scheduler state's invariants after every step: slow (O(tasks) a step), for tests. */
  validate: boolean;
  /** `delayed` calls are pure by default: equal calls are one task (Dask's `delayed_pure`, false). */
  delayedPure: boolean;
  /**
   * `compute` and `persist` may optimize the graph before it runs (Dask's `optimize_graph`, true);
   * false runs it as built. `get` never does.
   */
  optimizeGraph: boolean;
  /**
   * Fuse linear chains of delayed calls into one task, inlining cheap constants (Dask's
   * `optimization.fuse.delayed`, false: a delayed graph is only culled, which it is as built).
   */
  'optimization.fuse': boolean;
  /**
   * How long the default pool (the one `get`/`compute` start and keep warm between calls) stays
   * idle before its workers are let go; `null` keeps it for the life of the process. Idle
   * workers never keep the process alive either way.
   */
  poolIdleTimeoutMs: number | null;
  /**
   * Tasks that return promises (I/O: fetch, file reads, timers) may wait at once in one worker
   * thread or process, up to this many; the sync scheduler runs one task at a time regardless.
   */
  asyncTasksPerWorker: number;
  /** Most tasks sent to a worker in one message. */
  'batching.maxTasks': number;
  /** Aim for batches that take about this long to run, so slow tasks are spread over workers. */
  'batching.targetMs': number;
  /**
   * A distributed worker's memory steps, as fractions of its `memoryLimit` (Dask's
   * `distributed.worker.memory.*`, same defaults; null turns a step off): results over `target`
   * are spilled to disk, least recently used first; process memory over `spill` spills too; over
   * `pause` the worker starts no new task; over `terminate` it is restarted.
   */
  'memory.target': number | null;
  'memory.spill': number | null;
  'memory.pause': number | null;
  'memory.terminate': number | null;
  /**
   * Over NATS (a cluster on many machines): the other end of a connection that says nothing, not
   * even its ping, for this long is taken as gone (a worker killed, or cut off).
   */
  'nats.livenessMs': number;
  /**
   * Distributed: times a task may be running on a worker that dies (its connection lost, its
   * liveness key expired, its queue message delivered again while it stays silent) before the
   * task fails instead of running again (Dask's `distributed.scheduler.allowed-failures`).
   */
  allowedFailures: number;
  /**
   * Over NATS with JetStream: replicas of the stream that carries the scheduler's connections;
   * null (the default): 3 on a NATS cluster of three servers or more (it survives one server's
   * loss), else 1.
   */
  'nats.replicas': number | null;
  /** Callbacks for every run in scope. */
  callbacks: readonly Callback[];
  /** A user-created pool (e.g. a Piscina instance) for the threads scheduler; Skein never closes it. */
  pool: unknown;
}

export type ConfigKey = keyof SkeinConfig;
/** Values for `config.set` and `withConfig`: config keys, nested keys also in nested form (`{batching: {maxTasks}}`). */
export type ConfigInput = { [K in Exclude<ConfigKey, 'scheduler'>]?: SkeinConfig[K] | null } & {
  /** Keys of the user's own, dotted (`'myapp.retries'`), as Dask's config takes any key. */
  [user: `${string}.${string}`]: unknown;
  scheduler?: SchedulerSpec | null;
  batching?: { maxTasks?: number; targetMs?: number };
  memory?: { target?: number | null; spill?: number | null; pause?: number | null; terminate?: number | null };
};

interface KeySpec<T> {
  readonly default: T;
  readonly expected: string;
  /** Returns the normalised value or `undefined` when invalid. `fromText`: it came from env. */
  check(value: unknown, fromText: boolean): T | undefined;
  /** Only settable from code (functions, pools), not from files or the environment. */
  readonly codeOnly?: boolean;
}

function intSpec(def: number | null, min: number, nullable: boolean): KeySpec<number | null> {
  return {
    default: def,
    expected: `an integer >= ${min}${nullable ? ' or null' : ''}`,
    check(value, fromText) {
      let v = value;
      if (fromText && typeof v === 'string') v = v === 'null' || v === 'auto' ? null : Number(v);
      if (v === null || v === undefined) return nullable ? null : undefined;
      return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined;
    },
  };
}

/** A fraction of a limit: above 0, at most 1; null (or false, as in Dask) for none. */
function fractionSpec(def: number): KeySpec<number | null> {
  return {
    default: def,
    expected: 'a fraction above 0 and at most 1, or null (off)',
    check(value, fromText) {
      let v = value;
      if (fromText && typeof v === 'string') v = v === 'null' || v === 'false' ? null : Number(v);
      if (v === null || v === false) return null;
      return typeof v === 'number' && v > 0 && v <= 1 ? v : undefined;
    },
  };
}

const boolSpec: KeySpec<boolean> = {
  default: false,
  expected: 'true or false',
  check(value, fromText) {
    if (typeof value === 'boolean') return value;
    if (fromText && (value === 'true' || value === '1')) return true;
    if (fromText && (value === 'false' || value === '0')) return false;
    return undefined;
  },
};

const SPECS: { readonly [K in ConfigKey]: KeySpec<SkeinConfig[K]> } = {
  scheduler: {
    default: 'threads',
    expected: `one of ${SCHEDULERS.join(', ')}`,
    check: (v) => (typeof v === 'string' && Object.hasOwn(SCHEDULER_ALIASES, v) ? SCHEDULER_ALIASES[v as SchedulerSpec] : undefined),
  },
  numWorkers: intSpec(null, 1, true),
  threadsPerWorker: intSpec(1, 1, false) as KeySpec<number>,
  taskTimeoutMs: intSpec(null, 1, true),
  rerunExceptionsLocally: boolSpec,
  delayedPure: boolSpec,
  optimizeGraph: { ...boolSpec, default: true },
  'optimization.fuse': boolSpec,
  validate: boolSpec,
  poolIdleTimeoutMs: intSpec(30_000, 0, true),
  asyncTasksPerWorker: intSpec(16, 1, false) as KeySpec<number>,
  'batching.maxTasks': intSpec(512, 1, false) as KeySpec<number>,
  'batching.targetMs': intSpec(5, 1, false) as KeySpec<number>,
  'memory.target': fractionSpec(0.6),
  'memory.spill': fractionSpec(0.7),
  'memory.pause': fractionSpec(0.8),
  'memory.terminate': fractionSpec(0.95),
  'nats.livenessMs': intSpec(10_000, 100, false) as KeySpec<number>,
  allowedFailures: intSpec(3, 0, false) as KeySpec<number>,
  'nats.replicas': intSpec(null, 1, true),
  callbacks: {
    default: [],
    expected: 'an array of callback objects',
    codeOnly: true,
    check: (v) => (Array.isArray(v) && v.every((c) => c !== null && typeof c === 'object') ? v : undefined),
  },
  pool: {
    default: null,
    expected: 'a Piscina instance or null',
    codeOnly: true,
    check: (v) => (v === null || typeof v === 'object' ? v : undefined),
  },
};

export const CONFIG_KEYS = Object.keys(SPECS) as ConfigKey[];

/** Where a configuration value came from. */
export type Layer = { readonly source: string; readonly values: Partial<SkeinConfig> };

function flatten(input: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(input)) {
    const key = prefix + k;
    const nested = CONFIG_KEYS.some((c) => c.startsWith(`${key}.`)) || (!Object.hasOwn(SPECS, key) && isUserKey(`${key}.x`));
    if (nested && v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype) flatten(v as Record<string, unknown>, `${key}.`, out);
    else out[key] = v;
  }
  return out;
}

/** Skein's keys and their sections (`batching`, `memory`): the first part of a key is one of these or of the user's own. */
const SKEIN_NAMES = [...new Set(CONFIG_KEYS.flatMap((k) => [k, k.split('.')[0]!]))];

/**
 * A key of the user's own (Dask's config takes any key): dotted, in a section that is not
 * Skein's nor a near miss of one (`myapp.retries`; `batchin.maxTasks` is a typo, refused).
 */
function isUserKey(key: string): boolean {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) return false;
  const section = key.slice(0, dot);
  return !SKEIN_NAMES.includes(section) && closest(section, SKEIN_NAMES, 1).length === 0;
}

/** Validates raw input into a layer. Unknown keys and bad values throw, naming `source`. */
export function makeLayer(input: Record<string, unknown>, source: string, fromText = false): Layer {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw Errors.badConfigValue('(root)', input, 'an object of config keys', source);
  }
  const values: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(flatten(input))) {
    if (raw === undefined) continue;
    const spec = Object.hasOwn(SPECS, key) ? (SPECS[key as ConfigKey] as KeySpec<unknown>) : undefined;
    if (spec === undefined && isUserKey(key) && !fromText) {
      values[key] = raw; // the user's own key: taken as it is
      continue;
    }
    if (spec === undefined) throw Errors.unknownConfigKey(key, CONFIG_KEYS, source);
    if (spec.codeOnly && fromText) throw Errors.badConfigValue(key, raw, `${spec.expected}, which can only be set from code`, source);
    const value = spec.check(raw, fromText);
    if (value === undefined) {
      if (key === 'scheduler') throw Errors.unknownScheduler(raw, SCHEDULERS);
      throw Errors.badConfigValue(key, raw, spec.expected, source);
    }
    values[key] = value;
  }
  return { source, values: values as Partial<SkeinConfig> };
}

function warnOnce(message: string): void {
  if (warnedVariables.has(message)) return;
  warnedVariables.add(message);
  process.emitWarning(message, { code: 'SKEIN_UNKNOWN_ENV' });
}

/** The environment variable of a config key: batching.maxTasks → SKEIN_BATCHING__MAX_TASKS. */
export function envName(key: string): string {
  return `SKEIN_${key.split('.').map((part) => part.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join('__')}`;
}

function snakeToCamel(part: string): string {
  return part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const warnedVariables = new Set<string>();

/**
 * `SKEIN_NUM_WORKERS=4` → numWorkers: 4; `SKEIN_BATCHING__MAX_TASKS` → batching.maxTasks. A
 * `SKEIN_*` variable that names no key is someone else's (or a typo): warned about once, naming
 * the closest key, and ignored, as Dask does with unknown `DASK_*` variables. A known key with a
 * bad value is an error.
 */
export function layerFromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void = warnOnce): Layer | undefined {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SKEIN_') || value === undefined) continue;
    const key = name.slice('SKEIN_'.length).split('__').map(snakeToCamel).join('.');
    if (!Object.hasOwn(SPECS, key)) {
      const near = closest(key, CONFIG_KEYS.filter((k) => SPECS[k].codeOnly !== true), 1)[0];
      const spelled = near === undefined ? '' : ` (did you mean ${envName(near)}?)`;
      warn(`Ignoring the environment variable ${name}: ${JSON.stringify(key)} is not a Skein config key${spelled}.`);
      continue;
    }
    raw[key] = value;
  }
  if (Object.keys(raw).length === 0) return undefined;
  return makeLayer(raw, 'environment', true);
}

function readConfigFile(file: string): Layer {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw Errors.configFile(file, error instanceof Error ? error.message : String(error));
  }
  if (parsed === null || parsed === undefined) return { source: file, values: {} };
  return makeLayer(parsed as Record<string, unknown>, file, false);
}

const CONFIG_FILE = /\.(json|ya?ml)$/;

/** Config files in precedence order (later wins): user directory, then the working directory. */
export function configFiles(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const files: string[] = [];
  const dir = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'skein');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) if (CONFIG_FILE.test(name)) files.push(join(dir, name));
  }
  for (const name of ['skein.config.json', 'skein.config.yaml', 'skein.config.yml']) {
    const file = join(cwd, name);
    if (existsSync(file)) files.push(file);
  }
  return files;
}

const DEFAULTS: Layer = {
  source: 'default',
  values: Object.fromEntries(CONFIG_KEYS.map((k) => [k, SPECS[k].default])) as unknown as SkeinConfig,
};

let baseLayers: Layer[] | undefined; // files then env, read once (refresh() rereads)
const globalLayers: Layer[] = [];
const scoped = new AsyncLocalStorage<readonly Layer[]>();

function base(): Layer[] {
  if (baseLayers === undefined) {
    const layers = configFiles().map(readConfigFile);
    const env = layerFromEnv(process.env);
    if (env !== undefined) layers.push(env);
    baseLayers = layers;
  }
  return baseLayers;
}

/** All layers in precedence order, lowest first. */
function layers(extra?: Layer): Layer[] {
  const all = [DEFAULTS, ...base(), ...globalLayers, ...(scoped.getStore() ?? [])];
  if (extra !== undefined) all.push(extra);
  return all;
}

function lookup<K extends ConfigKey>(key: K, all: readonly Layer[]): { value: SkeinConfig[K]; source: string } {
  for (let i = all.length - 1; i >= 0; i--) {
    const layer = all[i]!;
    if (key in layer.values) return { value: layer.values[key] as SkeinConfig[K], source: layer.source };
  }
  throw new Error(`unreachable: no default for ${key}`);
}

/** The configuration in effect here, with `perCall` options on top. */
export function resolveConfig(perCall?: Record<string, unknown>): SkeinConfig {
  const extra = perCall === undefined ? undefined : makeLayer(perCall, 'call options');
  const all = layers(extra);
  const out = {} as Record<string, unknown>;
  for (const key of CONFIG_KEYS) out[key] = lookup(key, all).value;
  return out as unknown as SkeinConfig;
}

/** A key's value in the current scope when something set it (a file, the environment, config.set, withConfig), undefined when it is the default. */
export function configuredValue<K extends ConfigKey>(key: K): SkeinConfig[K] | undefined {
  const found = lookup(key, layers());
  return found.source === 'default' ? undefined : found.value;
}

/** Effective worker count: `numWorkers`, or one per CPU. */
export function workerCount(cfg: SkeinConfig): number {
  return cfg.numWorkers ?? availableParallelism();
}

/** The per-call configuration of a run started from a command line: only what was given. */
export function runOptions(scheduler: string | undefined, numWorkers: number | null | undefined): Record<string, unknown> {
  const perCall: Record<string, unknown> = {};
  if (scheduler !== undefined) perCall.scheduler = scheduler;
  if (numWorkers !== undefined && numWorkers !== null) perCall.numWorkers = numWorkers;
  return perCall;
}

/** Workers a run of `cfg` uses: 1 under sync (the calling thread), else `workerCount`. */
export function runWorkers(cfg: SkeinConfig): number {
  return cfg.scheduler === 'sync' ? 1 : workerCount(cfg);
}

export type ConfigHandle = Disposable & { dispose(): void };

function getConfig<K extends ConfigKey>(key: K): SkeinConfig[K];
function getConfig(key: string, fallback?: unknown): unknown;
function getConfig(key: string, ...fallback: unknown[]): unknown {
  const all = layers();
  if (Object.hasOwn(SPECS, key)) return lookup(key as ConfigKey, all).value;
  for (let i = all.length - 1; i >= 0; i--) if (Object.hasOwn(all[i]!.values, key)) return (all[i]!.values as Record<string, unknown>)[key];
  // a section: its keys, nested by their remaining parts
  const inside = new Map<string, unknown>();
  for (const layer of all) for (const [k, v] of Object.entries(layer.values)) if (k.startsWith(`${key}.`)) inside.set(k, v);
  if (inside.size > 0) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of inside) {
      const parts = k.slice(key.length + 1).split('.');
      let at = out;
      for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
      at[parts.at(-1)!] = v;
    }
    return out;
  }
  if (fallback.length > 0) return fallback[0];
  const user = new Set<string>();
  for (const layer of all) for (const k of Object.keys(layer.values)) if (!Object.hasOwn(SPECS, k)) user.add(k);
  throw Errors.unknownConfigKey(key, [...CONFIG_KEYS, ...user], 'config.get()');
}

export const config = {
  /**
   * The value of one key in the current scope; of a section (`'batching'`, `'myapp'`), an object
   * of its keys. A key nobody set: `fallback` when given, else an error listing the keys.
   */
  get: getConfig,
  /** Sets values for the whole process; dispose the handle to undo exactly this call. */
  set(values: ConfigInput): ConfigHandle {
    const layer = makeLayer(values, 'config.set()');
    globalLayers.push(layer);
    const dispose = (): void => {
      const i = globalLayers.indexOf(layer);
      if (i >= 0) globalLayers.splice(i, 1);
    };
    return { dispose, [Symbol.dispose]: dispose };
  },
  /** Every key with its value and the layer it came from (for `skein config`). */
  explain(): Array<{ key: ConfigKey; value: unknown; source: string }> {
    const all = layers();
    return CONFIG_KEYS.map((key) => ({ key, ...lookup(key, all) }));
  },
  /** Re-reads config files and the environment (they are read once, on first use). */
  refresh(): void {
    baseLayers = undefined;
  },
  keys: CONFIG_KEYS,
};

/** Runs `fn` with `values` in effect for it and everything it awaits, and only for it. */
export function withConfig<T>(values: ConfigInput, fn: () => T): T {
  const layer = makeLayer(values, 'withConfig()');
  return scoped.run([...(scoped.getStore() ?? []), layer], fn);
}
