/**
 * Installs Skein's module hooks (see hooks.ts) once per thread, and turns on source maps so
 * stack traces show the user's TypeScript lines. Call before importing a graph file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';

let done = false;

/** URL of a sibling file in the built runtime directory (dist/runtime/). */
export function runtimeFile(name: string): string {
  return new URL(`./${name}`, import.meta.url).href;
}

const TS_URL = /\.(ts|mts|cts|tsx)$/i;

/**
 * Whether workers must register Skein's module hooks before importing the modules at `urls`:
 * when one is TypeScript, when this thread loaded modules through the hooks (a graph file and
 * what it imports may need them), or when another loader is active here (tsx, ts-node), whose
 * modules may import TypeScript. Otherwise a worker skips them: registering costs a hooks
 * thread per worker, tens of milliseconds at start-up.
 */
export function workersNeedLoader(urls: readonly string[]): boolean {
  if (done || urls.some((url) => TS_URL.test(url.split('?')[0]!))) return true;
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /--(import|loader|experimental-loader|require)\b|(^|\s)-r\b/.test(flags);
}

const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"\n]+)\1/g;
const PLAIN_JS = /\.(m?js|cjs|json)$/i;

/** Static imports only: `import … from '…'`, `export … from '…'`, `import '…'` (never `import('…')`). */
const STATIC_IMPORT = /(?:\bfrom\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

/** The file a relative specifier names, trying TypeScript's spellings; undefined if none exists. */
function resolveLocal(dir: string, specifier: string): string | undefined {
  const base = resolvePath(dir, specifier);
  const tries = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, `${base}.js`, `${base}.mjs`, join(base, 'index.ts'), join(base, 'index.js')];
  return tries.find((p) => existsSync(p) && !statSync(p).isDirectory());
}

/** Paths of the local modules `path` imports statically (relative specifiers only). */
export function staticLocalImports(path: string): string[] {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const match of source.matchAll(STATIC_IMPORT)) {
    const specifier = match[2]!;
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    const file = resolveLocal(dirname(path), specifier);
    if (file !== undefined && !out.includes(file)) out.push(file);
  }
  return out;
}

/** True when a package named `name` is installed where Node looks for it from `dir`. */
function installedFrom(dir: string, name: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', name, 'package.json'))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * Whether a JavaScript graph file needs Skein's module hooks: it (or a local module it imports)
 * imports a TypeScript file, uses TypeScript's extensionless or `.js`-for-`.ts` spelling, or
 * imports `skein` where no `skein` package is installed. A file that cannot be read says yes.
 */
export function needsLoader(path: string, seen = new Set<string>()): boolean {
  if (!PLAIN_JS.test(path)) return true;
  if (seen.has(path)) return false;
  seen.add(path);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return true;
  }
  for (const match of source.matchAll(IMPORT_SPECIFIER)) {
    const specifier = match[2]!;
    if (specifier === 'skein' || specifier.startsWith('skein/')) {
      if (!installedFrom(dirname(path), 'skein')) return true;
    } else if (specifier.startsWith('./') || specifier.startsWith('../')) {
      const target = resolvePath(dirname(path), specifier);
      if (!PLAIN_JS.test(target) || !existsSync(target) || needsLoader(target, seen)) return true;
    }
  }
  return false;
}

export function registerLoader(): void {
  if (done) return;
  done = true;
  process.setSourceMapsEnabled(true);
  register(runtimeFile('loaderHooks.js'), {
    data: { aliases: { skein: runtimeFile('index.js'), 'skein/core': runtimeFile('core.js') } },
  });
}
