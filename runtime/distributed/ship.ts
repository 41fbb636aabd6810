/**
 * Code shipped to workers that do not share the client's disk (a cluster through NATS). Before a
 * client sends tasks whose functions come from a module of its own, it bundles that module with
 * the local modules it imports (esbuild: TypeScript compiled, inline source maps to the user's
 * files, packages left as imports by name), puts the bundle into JetStream's object store once,
 * under its content hash, and registers a `ShippedModule` worker plugin: on every worker, now and
 * as they join, before any task, the module is imported from its path where that path exists (a
 * shared filesystem, as on an HPC cluster), and otherwise fetched from the object store into the
 * worker's own folder, with the packages it imports linked from where the worker runs (a worker
 * that lacks one says which, and how to get it). Tasks keep naming the module by its URL; the
 * worker imports its copy.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { bundleOptions } from '../loader/bundle.js';
import { runtimeFile } from '../loader/register.js';
import { type PluginWorker, WorkerPlugin, uploadedModules } from './plugins.js';

/** The object store bucket code is shipped through. */
export const CODE_BUCKET = 'skein-code';

/** A package's name in an import specifier: `lodash/fp` → lodash, `@scope/pkg/x` → @scope/pkg. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Leaves packages as imports by name (each worker finds them where it runs), noting which. */
function packagesByName(found: Set<string>): Plugin {
  return {
    name: 'skein-packages-by-name',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        found.add(packageName(args.path));
        return { path: args.path, external: true };
      });
    },
  };
}

/** The bundle to ship of the module at `url`: its code, its content hash and the packages it imports. */
export async function bundleForShipping(url: string): Promise<{ code: string; hash: string; packages: string[]; filename: string }> {
  const { build } = await import('esbuild');
  const path = fileURLToPath(url);
  const filename = `${basename(path, extname(path))}.mjs`;
  const packages = new Set<string>();
  const result = await build({
    ...bundleOptions(join(dirname(path), filename), [packagesByName(packages)]),
    entryPoints: [path],
    // the map names the user's files where the client has them, wherever the copy is
    sourceRoot: `${pathToFileURL(dirname(path)).href}/`,
  });
  const code = result.outputFiles[0]!.text;
  return { code, hash: createHash('sha256').update(code).digest('hex').slice(0, 32), packages: [...packages].sort(), filename };
}

/** Puts `code` into the object store under `hash`, unless it is there already. */
export async function putShipped(hash: string, code: string): Promise<void> {
  const store = await codeStore();
  if ((await store.info(hash)) !== null) return;
  await store.putBlob({ name: hash, description: 'a module bundled by a Skein client for its workers' }, new TextEncoder().encode(code));
}

async function codeStore(): Promise<import('@nats-io/obj').ObjectStore> {
  const nc = await (await import('./natsComm.js')).processConnection();
  if (nc === undefined) throw new Error('Shipping code to the workers needs the NATS connection of a cluster (new Client("nats://…")).');
  // a CommonJS package: its exports are the namespace's, or its default's, depending on who imports it
  const obj = (await import('@nats-io/obj')) as typeof import('@nats-io/obj') & { default?: typeof import('@nats-io/obj') };
  const Objm = obj.Objm ?? obj.default!.Objm;
  try {
    return await new Objm(nc).create(CODE_BUCKET);
  } catch (error) {
    throw new Error(`Skein ships code to the workers through JetStream's object store, and the NATS server refused it (${error instanceof Error ? error.message : String(error)}). Start nats-server with JetStream on (nats-server -js).`, { cause: error });
  }
}

/** Where `pkg` is installed for code that runs in `from`: its folder in the nearest node_modules, or undefined. */
function installedPackage(pkg: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The `skein` package this process runs (dist/runtime/… → its root). */
function ownPackage(): string {
  return resolve(dirname(fileURLToPath(runtimeFile('index.js'))), '..', '..');
}

export class ShippedModule extends WorkerPlugin {
  /**
   * @param url the module's URL where the client has it (the one tasks name)
   * @param filename the copy's file name on the workers
   * @param hash the bundle's name in the object store
   * @param packages the packages it imports, found where each worker runs
   */
  constructor(
    readonly url: string,
    readonly filename: string,
    readonly hash: string,
    readonly packages: readonly string[],
  ) {
    super();
    this.name = `shipped ${url}`;
  }

  override async setup(worker: PluginWorker): Promise<void> {
    // a shared filesystem: the module is where the client has it
    if (existsSync(fileURLToPath(this.url))) return;
    const dir = join(worker.localDirectory, 'shipped', this.hash);
    const file = join(dir, this.filename);
    if (!existsSync(file)) {
      const missing: string[] = [];
      const links = new Map<string, string>();
      for (const pkg of this.packages) {
        const at = pkg === 'skein' ? ownPackage() : installedPackage(pkg, process.cwd());
        if (at === undefined) missing.push(pkg);
        else links.set(pkg, at);
      }
      if (missing.length > 0) {
        throw new Error(
          `${basename(fileURLToPath(this.url))} imports ${missing.map((p) => JSON.stringify(p)).join(', ')}, which this worker cannot load from ${process.cwd()}: install ${missing.length === 1 ? 'it' : 'them'} there (npm install ${missing.join(' ')}), or start the worker in a folder that has ${missing.length === 1 ? 'it' : 'them'}.`,
        );
      }
      const store = await codeStore();
      const data = await store.getBlob(this.hash);
      if (data === null) throw new Error(`the object store has no module ${this.hash} (${this.url}): the client that shipped it may have been started against another NATS server`);
      // its packages, linked from where this worker finds them (Node resolves them from the copy's folder up)
      for (const [pkg, at] of links) {
        const link = join(worker.localDirectory, 'shipped', 'node_modules', pkg);
        if (existsSync(link)) continue;
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(at, link, 'dir');
      }
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, data);
    }
    uploadedModules(worker).set(this.url, pathToFileURL(file).href);
  }

  override teardown(worker: PluginWorker): void {
    uploadedModules(worker).delete(this.url);
  }
}
