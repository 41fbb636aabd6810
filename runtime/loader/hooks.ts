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
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Transpiled files, shared by every thread and process of this user: the CLI's thread transpiles
 * a graph file once, and its workers (each with hooks of its own) read the result instead of
 * starting esbuild again. Keyed by the file's path and content, so an edited file is never stale.
 */
/** The cache's folder, in the temporary folder of this process's environment. */
function cacheDir(): string {
  return join(tmpdir(), `skein-transpiled-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
}
const CACHE_FORMAT = 1;

export function cacheFile(path: string, source: string): string {
  return join(cacheDir(), `${createHash('sha256').update(`${CACHE_FORMAT}\0${path}\0${source}`).digest('hex').slice(0, 32)}.js`);
}

let cacheTrusted: Promise<boolean> | undefined;

/** The cache is used only when this user owns its folder and no one else may write there. */
function trustCache(): Promise<boolean> {
  cacheTrusted ??= (async () => {
    try {
      await mkdir(cacheDir(), { recursive: true, mode: 0o700 });
      const info = await stat(cacheDir());
      const mine = typeof process.getuid !== 'function' || info.uid === process.getuid();
      return info.isDirectory() && mine && (info.mode & 0o022) === 0;
    } catch {
      return false;
    }
  })();
  return cacheTrusted;
}

async function fromCache(file: string): Promise<string | undefined> {
  if (!(await trustCache())) return undefined;
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined; // not transpiled yet
  }
}

async function toCache(file: string, code: string): Promise<void> {
  try {
    if (!(await trustCache())) return;
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temp, code);
    await rename(temp, file); // whole or not at all, whoever reads it
  } catch {
    // a cache that cannot be written only costs time
  }
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  const path = url.startsWith('file:') ? fileURLToPath(url.split('?')[0]!) : '';
  if (!TS_FILE.test(path)) return nextLoad(url, context);
  const source = await readFile(path, 'utf8');
  const cached = cacheFile(path, source);
  const hit = await fromCache(cached);
  if (hit !== undefined) return { format: 'module', source: hit, shortCircuit: true };
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
    await toCache(cached, out.code);
    return { format: 'module', source: out.code, shortCircuit: true };
  } catch (error) {
    // esbuild's own message carries ten lines of its internals: say file, line, column and the spot
    throw syntaxErrorFrom((error as { errors?: EsbuildMessage[] }).errors) ?? error;
  }
}
