/**
 * Loads a graph file: a `.ts/.mts/.js/.mjs` module whose default export is a graph object (or
 * Map), a delayed value, or an array of delayed values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SkeinError, Errors } from '../errors.js';
import { isDelayed, mergeGraphs } from '../graph/delayed.js';
import { type Dsk, type Key, isPlainObject, toDsk } from '../graph/spec.js';
import { needsLoader, registerLoader, staticLocalImports } from './register.js';
import { type EsbuildMessage, syntaxErrorFrom } from './syntax.js';
import { registerModule } from './locate.js';
import { type CompiledGraph, compileGraph, outputKeys } from '../graph/compile.js';
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
  /** `graph` compiled, where loading compiled it already (a plain graph object: checked for cycles). */
  readonly compiled?: CompiledGraph;
}

/**
 * A SyntaxError from loading a graph file, as a SkeinError that shows where: the hooks already
 * formatted TypeScript errors; for JavaScript, esbuild parses the file and its local imports
 * again to find the line (V8's message names none). Otherwise the error as it came.
 */
async function locateSyntaxError(path: string, error: SyntaxError): Promise<unknown> {
  if (/^[^\n]+:\d+:\d+: /.test(error.message)) return Errors.syntax(error.message);
  const { transform } = await import('esbuild');
  const files = [path];
  for (let i = 0; i < files.length && i < 50; i++) {
    const file = files[i]!;
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      await transform(source, { loader: /\.(ts|mts|cts)$/.test(file) ? 'ts' : 'js', format: 'esm', sourcefile: file, supported: { 'top-level-await': true } });
    } catch (e) {
      const located = syntaxErrorFrom((e as { errors?: EsbuildMessage[] }).errors);
      if (located !== undefined) return Errors.syntax(located.message);
    }
    for (const next of staticLocalImports(file)) if (!files.includes(next)) files.push(next);
  }
  return error;
}

/**
 * Loads the graph file at `file`. `withoutHooks`: a file that needs Skein's module hooks
 * (TypeScript) is bundled with what it imports and the bundle imported instead (the debug runner:
 * hooks run on a thread of their own, which a JavaScript debugger attached to it would list).
 * `bundle`: the URL of such a bundle, made already, to import in the file's place (the language
 * server's evaluation of an editor's text).
 */
export async function loadGraphFile(file: string, options: { readonly withoutHooks?: boolean; readonly bundle?: string } = {}): Promise<LoadedGraph> {
  const path = resolvePath(file);
  if (options.bundle === undefined && !existsSync(path)) throw Errors.noFile(path);
  let url = options.bundle ?? pathToFileURL(path).href;
  if (options.bundle === undefined && needsLoader(path)) {
    if (options.withoutHooks === true) url = await (await import('./bundle.js')).bundledGraphFile(path);
    else registerLoader();
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SyntaxError) throw await locateSyntaxError(path, error);
    throw error;
  }
  registerModule(url, module);
  const exported = module.default;
  const what = `The default export of ${file}`;
  if (exported === undefined) throw Errors.noDefaultExport(file);
  if (isDelayed(exported)) return { file: path, url, graph: mergeGraphs([exported]), keys: [exported.key], module };
  if (Array.isArray(exported)) {
    if (!exported.every(isDelayed)) throw Errors.notAGraph(what);
    return { file: path, url, graph: mergeGraphs(exported), keys: [...new Set(exported.map((d) => d.key))], module };
  }
  if (exported instanceof Map || isPlainObject(exported)) {
    const graph = toDsk(exported as Record<string, unknown>);
    const compiled = compileGraph(graph);
    postorder(compiled); // refuse a cycle now: its keys would not count as outputs
    return { file: path, url, graph, keys: outputKeys(compiled), module, compiled };
  }
  throw Errors.notAGraph(what);
}
