/**
 * Loads a graph file: a `.ts/.mts/.js/.mjs` module whose default export is a graph object (or
 * Map), a delayed value, or an array of delayed values.
 */
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SkeinError, Errors } from '../errors.js';
import { isDelayed, mergeGraphs } from '../graph/delayed.js';
import { type Dsk, type Key, isPlainObject, toDsk } from '../graph/spec.js';
import { needsLoader, registerLoader } from './register.js';
import { registerModule } from './locate.js';
import { compileGraph, outputKeys } from '../graph/compile.js';
import { postorder } from '../graph/toposort.js';

export interface LoadedGraph {
  /** Absolute path of the graph file. */
  readonly file: string;
  readonly url: string;
  readonly graph: Dsk;
  /** The keys to compute: the delayed values' keys, or the graph's outputs (keys nothing depends on). */
  readonly keys: readonly Key[];
  /** The graph module's namespace (its exports). */
  readonly module: Record<string, unknown>;
}

export async function loadGraphFile(file: string): Promise<LoadedGraph> {
  const path = resolvePath(file);
  if (!existsSync(path)) throw new SkeinError('NO_FILE', `Graph file not found: ${path}`);
  if (needsLoader(path)) registerLoader();
  const url = pathToFileURL(path).href;
  const module = (await import(url)) as Record<string, unknown>;
  registerModule(url, module);
  const exported = module.default;
  const what = `The default export of ${file}`;
  if (exported === undefined) throw new SkeinError('NOT_A_GRAPH', `${file} has no default export; export default a graph object, a delayed value, or an array of delayed values.`);
  if (isDelayed(exported)) return { file: path, url, graph: mergeGraphs([exported]), keys: [exported.key], module };
  if (Array.isArray(exported)) {
    if (!exported.every(isDelayed)) throw Errors.notAGraph(what);
    return { file: path, url, graph: mergeGraphs(exported), keys: [...new Set(exported.map((d) => d.key))], module };
  }
  if (exported instanceof Map || isPlainObject(exported)) {
    const graph = toDsk(exported as Record<string, unknown>);
    const compiled = compileGraph(graph);
    postorder(compiled); // refuse a cycle now: its keys would not count as outputs
    return { file: path, url, graph, keys: outputKeys(compiled), module };
  }
  throw Errors.notAGraph(what);
}
