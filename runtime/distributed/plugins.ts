/**
 * Plugins (Dask's `WorkerPlugin` and `SchedulerPlugin`): objects whose methods the cluster calls
 * as things happen. A plugin is an instance of an exported class; it travels as its class (by
 * module URL and export name, as task functions do) and its own fields (structured-cloned), and is
 * made again on the other side with that class's prototype, without calling its constructor
 * (as Dask unpickles one). A worker plugin runs in every worker's process, current and future;
 * a scheduler plugin in the scheduler's.
 */
import type { FnRef, WireError } from '../workers/protocol.js';
import { locateFunction } from '../loader/locate.js';
import { runtimeFile } from '../loader/register.js';
import { importExported } from './runExported.js';
import type { LogEntry, TaskStateName } from './schedulerState.js';
import type { WorkerInfo } from './protocol.js';

/** The states a task goes through on a worker, as a worker plugin's `transition` sees them. */
export type WorkerTaskState = 'waiting' | 'ready' | 'executing' | 'memory' | 'error' | 'released';

/** What a worker plugin's `setup` and `teardown` get: the worker they run in. */
export interface PluginWorker {
  readonly name: string;
  /** Where it serves its data (`tcp://…`, or `inproc://…` in the client's process). */
  readonly address: string;
  readonly pid: number;
  readonly nthreads: number;
  readonly memoryLimit: number | null;
  /** The keys whose results it holds, in memory or spilled. */
  keys(): string[];
  /** A folder of this worker's own (made on first use), removed when the worker ends. */
  readonly localDirectory: string;
}

/** On a PluginWorker: uploaded modules (client.uploadFile), the original URL → the copy on this worker. */
export const UPLOADED_MODULES = Symbol('skein.uploadedModules');

/** A worker's modules uploaded or shipped to it: the original URL → its copy there. */
export function uploadedModules(worker: PluginWorker): Map<string, string> {
  return (worker as PluginWorker & { [UPLOADED_MODULES]: Map<string, string> })[UPLOADED_MODULES];
}

/** What a scheduler plugin's methods get: the scheduler they run in. */
export interface PluginScheduler {
  readonly address: string;
  /** Its workers, by address, as `client.schedulerInfo()` lists them. */
  workers(): Record<string, WorkerInfo>;
  /** Every transition of `key`, oldest first (`client.story`). */
  story(key: string): LogEntry[];
}

/**
 * Extend it and register an instance with `client.registerPlugin(new MyPlugin(...))`: `setup`
 * runs on every worker there is and on every worker that joins later (its tasks wait for it),
 * `teardown` when the worker closes or the plugin is unregistered or replaced (a plugin of the
 * same name), `transition` as each task changes state there. Methods run in the worker's process
 * (its main thread, where it keeps its results), not in the threads that run tasks.
 */
export class WorkerPlugin {
  /** Registering a plugin with a name in use replaces the one before it. Default: the class's name. */
  name?: string;
  setup?(worker: PluginWorker): void | Promise<void>;
  teardown?(worker: PluginWorker): void | Promise<void>;
  transition?(key: string, from: WorkerTaskState, to: WorkerTaskState): void;
}

/**
 * Extend it and register an instance with `client.registerPlugin(new MyPlugin(...))`: `start`
 * runs when it is registered, `close` when the scheduler closes or the plugin is unregistered;
 * the others as the scheduler's state changes: every task transition, every worker that joins or
 * goes, every graph a client submits.
 */
export class SchedulerPlugin {
  name?: string;
  start?(scheduler: PluginScheduler): void | Promise<void>;
  close?(): void | Promise<void>;
  transition?(key: string, from: TaskStateName, to: TaskStateName, info: { readonly stimulus: string }): void;
  addWorker?(scheduler: PluginScheduler, worker: string): void;
  removeWorker?(scheduler: PluginScheduler, worker: string): void;
  updateGraph?(scheduler: PluginScheduler, update: { readonly client: string; readonly keys: readonly string[] }): void;
}

export type PluginKind = 'worker' | 'scheduler';

/** A plugin as it travels: its name, kind, class and own fields. */
export interface WirePlugin {
  readonly name: string;
  readonly kind: PluginKind;
  readonly cls: FnRef;
  readonly fields: Record<string, unknown>;
}

/** How a plugin's setup went on a worker (`schedulerInfo().workers[…].plugins`). */
export type PluginStatus = { readonly ok: true } | { readonly ok: false; readonly error: string };

const WORKER_METHODS = ['setup', 'teardown'] as const;
const SCHEDULER_METHODS = ['start', 'close', 'addWorker', 'removeWorker', 'updateGraph'] as const;

/** Which kind `plugin` is: by the class it extends, else by the methods it has. */
export function pluginKind(plugin: object): PluginKind | undefined {
  if (plugin instanceof WorkerPlugin) return 'worker';
  if (plugin instanceof SchedulerPlugin) return 'scheduler';
  const has = (m: string) => typeof (plugin as Record<string, unknown>)[m] === 'function';
  if (WORKER_METHODS.some(has)) return 'worker';
  if (SCHEDULER_METHODS.some(has)) return 'scheduler';
  return undefined;
}

/** The name a plugin goes by. */
export function pluginName(plugin: object, name?: string): string {
  const own = (plugin as { name?: unknown }).name;
  return name ?? (typeof own === 'string' && own !== '' ? own : plugin.constructor.name);
}

/** The plugin in wire form. Throws a TypeError that says what to do when it cannot travel. */
export async function toWirePlugin(plugin: unknown, name?: string): Promise<WirePlugin> {
  if (plugin === null || typeof plugin !== 'object' || Object.getPrototypeOf(plugin) === Object.prototype || Object.getPrototypeOf(plugin) === null) {
    throw new TypeError(
      'registerPlugin: pass an instance of an exported class that extends WorkerPlugin or SchedulerPlugin (import { WorkerPlugin } from "skein/distributed"); ' +
        `got ${typeof plugin === 'function' ? 'a class or function: make an instance with new' : plugin === null ? 'null' : typeof plugin === 'object' ? 'a plain object' : typeof plugin}.`,
    );
  }
  const kind = pluginKind(plugin);
  const pname = pluginName(plugin, name);
  if (kind === undefined) throw new TypeError(`registerPlugin: plugin "${pname}" is neither a WorkerPlugin (setup, teardown, transition) nor a SchedulerPlugin (start, close, transition, addWorker, removeWorker, updateGraph): extend one of them.`);
  const ref = await locateFunction(plugin.constructor);
  const cname = plugin.constructor.name || 'its class';
  if (ref === undefined || 'captures' in ref) throw new TypeError(`registerPlugin: plugin "${pname}" cannot be sent: its class ${cname} is not exported from any module, and workers and the scheduler make plugins again by module and export name, as they load task functions. Export the class from a module (export class ${cname} extends …) and import it from there.`);
  if ('evaluating' in ref) throw new TypeError(`registerPlugin: plugin "${pname}" cannot be sent: its class ${cname} is defined in ${ref.evaluating}, a module still running its top-level code (a top-level await is waiting for this call), so it cannot be imported elsewhere. Move the class into a module of its own and import it from there.`);
  const cls: FnRef = (await ownClass(plugin.constructor, ref.url)) ?? [ref.url, ref.name];
  let fields: Record<string, unknown>;
  try {
    fields = structuredClone({ ...plugin });
  } catch (error) {
    throw new TypeError(`registerPlugin: plugin "${pname}" cannot be sent to the ${kind === 'worker' ? 'workers' : 'scheduler'}: its fields must be data (${error instanceof Error ? error.message : String(error)}).`);
  }
  return { name: pname, kind, cls, fields };
}

/**
 * A class of Skein's own (UploadFile, ShippedModule) by the name `skein/distributed` exports it
 * as (`skein:distributed`), not by the file it is in here: a worker on another machine has its own
 * copy of Skein, elsewhere, with other chunk names.
 */
async function ownClass(cls: Function, url: string): Promise<FnRef | undefined> {
  const entry = runtimeFile('distributed.js');
  if (!url.startsWith(new URL('.', entry).href)) return undefined;
  const exports = (await import(entry)) as Record<string, unknown>;
  const name = Object.keys(exports).find((k) => exports[k] === cls);
  return name === undefined ? undefined : ['skein:distributed', name];
}

/** The plugin made again from its wire form: its class's prototype, its fields (not its constructor). */
export async function fromWirePlugin<T extends object>(wire: WirePlugin, ownProcess: boolean): Promise<T> {
  const cls = await importExported(wire.cls, ownProcess);
  if (typeof cls !== 'function') throw new TypeError(`${wire.cls[0]} exports no class ${JSON.stringify(wire.cls[1])}`);
  return Object.assign(Object.create(cls.prototype as object) as T, structuredClone(wire.fields));
}

/** Runs a plugin's method, its error as a message naming the plugin and the method. */
export async function callPlugin(name: string, method: string, call: () => unknown): Promise<WireError | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { name: error instanceof Error ? error.name : 'Error', message: `plugin "${name}" failed in ${method}: ${message}`, stack: error instanceof Error ? error.stack : undefined, props: {} };
  }
}
