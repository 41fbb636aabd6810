/**
 * A module and the local modules it imports as one ES module, by esbuild: TypeScript compiled,
 * inline source maps back to the user's files, packages left as imports of the files this process
 * resolves them to (`skein` and its subpaths: the runtime that is running). Used where module
 * hooks are not wanted: `client.uploadFile` (a copy that workers load anywhere) and the debug
 * runner (Node 20 runs module hooks on a thread of their own, which a JavaScript debugger attached
 * to the runner lists as an extra "[worker 1]").
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildOptions, Loader, Plugin } from 'esbuild';
import { Errors } from '../errors.js';
import { runtimeFile } from './register.js';
import { type EsbuildMessage, syntaxErrorFrom } from './syntax.js';

/** The running runtime's entry for `skein` and its subpaths. */
const SKEIN_ENTRIES: Record<string, string> = { skein: 'index.js', 'skein/core': 'core.js', 'skein/distributed': 'distributed.js' };

/**
 * Keeps packages out of the bundle, each imported from the file this process resolves it to
 * (`skein`: the running runtime); a package it cannot resolve stays a bare import.
 */
function packagesWhereTheyAre(): Plugin {
  return {
    name: 'skein-packages-where-they-are',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'skein-resolving') return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const own = SKEIN_ENTRIES[args.path];
        if (own !== undefined) return { path: runtimeFile(own), external: true };
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'skein-resolving' });
        return { path: found.errors.length === 0 && found.path !== '' ? pathToFileURL(found.path).href : args.path, external: true };
      });
    },
  };
}

/** `source` of the file at `path` with `import.meta.url` (and its kin) spelled out as that file's. */
function withOwnImportMeta(source: string, path: string): string {
  return source
    .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(path).href))
    .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(path))
    .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(join(path, '..')));
}

function loaderFor(path: string): Loader {
  const ext = extname(path);
  return ext === '.tsx' ? 'tsx' : ext === '.jsx' ? 'jsx' : /ts$/.test(ext) ? 'ts' : 'js';
}

/** `import.meta.url` (and its kin) of each bundled module stays its own file's, not the bundle's. */
function ownImportMeta(): Plugin {
  return {
    name: 'skein-own-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.(m?[jt]s|tsx|jsx)$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        return { contents: withOwnImportMeta(source, args.path), loader: loaderFor(args.path) };
      });
    },
  };
}

/**
 * What every bundle of a user's module shares: one ES module for Node 20 with an inline source
 * map; `plugins` by default leave packages where they are and each module its own import.meta
 * (code shipped to other machines has its own: ship.ts).
 */
export function bundleOptions(outfile: string, plugins: Plugin[] = [packagesWhereTheyAre(), ownImportMeta()]): BuildOptions & { write: false } {
  return { outfile, bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'silent', plugins };
}

/**
 * The bundle of `text`, the contents of the module at `path` as an editor has it (maybe unsaved;
 * what it imports is read from disk), for a file at `outfile`; or esbuild's errors, with where.
 */
export async function bundleText(text: string, path: string, outfile: string): Promise<{ code: string } | { errors: EsbuildMessage[] }> {
  const { build } = await import('esbuild');
  try {
    const stdin = { contents: withOwnImportMeta(text, path), resolveDir: dirname(path), sourcefile: path, loader: loaderFor(path) };
    const result = await build({ ...bundleOptions(outfile), stdin });
    return { code: result.outputFiles[0]!.text };
  } catch (error) {
    const errors = (error as { errors?: EsbuildMessage[] }).errors;
    if (errors === undefined) throw error;
    return { errors };
  }
}

/** The bundle of the module at `path` (code with an inline source map); a SkeinError for a syntax error, with where. */
export async function bundleModule(path: string, outfile: string): Promise<string> {
  const { build } = await import('esbuild');
  try {
    const result = await build({ ...bundleOptions(outfile), entryPoints: [path] });
    return result.outputFiles[0]!.text; // one file: the source map is inline
  } catch (error) {
    const located = syntaxErrorFrom((error as { errors?: EsbuildMessage[] }).errors);
    if (located !== undefined) throw Errors.syntax(located.message);
    throw error;
  }
}

/**
 * The graph file at `path` bundled into a file of this user's temporary folder (named by its
 * content, so an edited file is a new module); its URL, to import instead of the file.
 */
export async function bundledGraphFile(path: string): Promise<string> {
  const dir = join(tmpdir(), `skein-debug-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `${basename(path, extname(path))}.mjs`;
  const code = await bundleModule(path, join(dir, name));
  const file = join(dir, `${createHash('sha256').update(code).digest('hex').slice(0, 16)}-${name}`);
  // the source map's paths are relative to where it was built for: the same folder
  writeFileSync(file, code);
  process.setSourceMapsEnabled(true);
  return pathToFileURL(file).href;
}
