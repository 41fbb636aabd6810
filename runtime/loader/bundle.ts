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
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
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

/** `import.meta.url` (and its kin) of each bundled module stays its own file's, not the bundle's. */
function ownImportMeta(): Plugin {
  return {
    name: 'skein-own-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.(m?[jt]s|tsx|jsx)$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(join(args.path, '..')));
        const ext = extname(args.path);
        return { contents, loader: ext === '.tsx' ? 'tsx' : ext === '.jsx' ? 'jsx' : /ts$/.test(ext) ? 'ts' : 'js' };
      });
    },
  };
}

/** The bundle of the module at `path` (code with an inline source map); a SkeinError for a syntax error, with where. */
export async function bundleModule(path: string, outfile: string): Promise<string> {
  const { build } = await import('esbuild');
  try {
    const result = await build({
      entryPoints: [path],
      outfile,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [packagesWhereTheyAre(), ownImportMeta()],
    });
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
