/**
 * Module customization hooks (registered with `module.register`), so graph files written in
 * TypeScript load as they are, in the CLI, in worker threads and in worker processes.
 *
 * - `skein` and `skein/core` resolve to the runtime that is running, wherever the graph file
 *   lives (a user's workspace opened in VS Code usually has no Skein installed).
 * - `.ts`, `.mts` and `.tsx` files are transpiled by esbuild, one file at a time, with an inline
 *   source map, so stack traces point at the user's lines and every module keeps its own URL
 *   (workers find functions by module URL + export name).
 * - TypeScript's import conventions work: `./util.js` finds `./util.ts`, `./util` finds
 *   `./util.ts` or `./util/index.ts`.
 *
 * This file runs on Node's hooks thread: it must not import the rest of the runtime.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type EsbuildMessage, syntaxErrorFrom } from './syntax.js';

interface HookData {
  readonly aliases: Readonly<Record<string, string>>;
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
type ResolveResult = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type LoadResult = { format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };
type NextLoad = (url: string, context?: unknown) => Promise<LoadResult>;

let aliases: Readonly<Record<string, string>> = {};

export function initialize(data: HookData): void {
  aliases = data.aliases;
}

const TS_FILE = /\.(ts|mts|tsx)$/;

const KNOWN_EXTENSION = /\.(cjs|json|node|ts|mts|cts|tsx|jsx|wasm)$/i;

function candidates(specifier: string): string[] {
  if (/\.m?js$/.test(specifier)) return [specifier.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts'), specifier.replace(/\.js$/, '.tsx')];
  // `./user.service` has a dot but no extension: it is `./user.service.ts`
  if (KNOWN_EXTENSION.test(specifier)) return [];
  return [`${specifier}.ts`, `${specifier}.tsx`, `${specifier}.mts`, `${specifier}.js`, `${specifier}/index.ts`, `${specifier}/index.js`];
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<ResolveResult> {
  const alias = aliases[specifier];
  if (alias !== undefined) return { url: alias, shortCircuit: true };
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:');
    if (!relative || !context.parentURL?.startsWith('file:')) throw error;
    for (const candidate of candidates(specifier)) {
      try {
        return await nextResolve(candidate, context);
      } catch {
        // try the next spelling; the original error is rethrown if none resolves
      }
    }
    throw error;
  }
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const path = url.startsWith('file:') ? fileURLToPath(url.split('?')[0]!) : '';
  if (!TS_FILE.test(path)) return nextLoad(url, context);
  const source = await readFile(path, 'utf8');
  // esbuild only when a TypeScript file is loaded: JavaScript graphs never pay for starting it
  const { transform } = await import('esbuild');
  try {
    const out = await transform(source, {
      loader: path.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: path,
      supported: { 'top-level-await': true },
    });
    return { format: 'module', source: out.code, shortCircuit: true };
  } catch (error) {
    // esbuild's own message carries ten lines of its internals: say file, line, column and the spot
    throw syntaxErrorFrom((error as { errors?: EsbuildMessage[] }).errors) ?? error;
  }
}
