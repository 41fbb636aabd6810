/**
 * `client.uploadFile(path)` (Dask's `upload_file`): a module sent to every worker, current and
 * future, as a worker plugin. The client bundles the file with the local modules it imports
 * (esbuild: TypeScript is compiled, packages stay imports, each resolved where the client
 * resolves it); each worker writes the bundle into its own folder under its content hash and,
 * from then on, imports that copy wherever a task (or `client.run`) names the original module. A
 * file uploaded again has a new hash, hence a new URL: threads that imported the old one import
 * the new one, without a restart.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleModule } from '../loader/bundle.js';
import { type PluginWorker, WorkerPlugin, uploadedModules } from './plugins.js';

export class UploadFile extends WorkerPlugin {
  /**
   * @param url the module's URL where the client has it (the one tasks name)
   * @param filename the copy's file name on the workers
   * @param code the bundle
   */
  constructor(
    readonly url: string,
    readonly filename: string,
    readonly code: string,
  ) {
    super();
    this.name = `upload-file ${url}`;
  }

  override setup(worker: PluginWorker): void {
    const hash = createHash('sha256').update(this.code).digest('hex').slice(0, 16);
    const dir = join(worker.localDirectory, 'uploads', hash);
    const file = join(dir, this.filename);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, this.code);
    }
    uploadedModules(worker).set(this.url, pathToFileURL(file).href);
  }

  override teardown(worker: PluginWorker): void {
    uploadedModules(worker).delete(this.url);
  }
}


/**
 * The upload plugin of the module at `path`: bundled with its local imports, packages left as
 * imports of the files the client resolves them to. Rejects with esbuild's message (file, line)
 * when the module does not compile.
 */
export async function uploadPlugin(path: string): Promise<UploadFile> {
  const file = resolve(path);
  if (!existsSync(file)) throw new Error(`uploadFile: ${file} does not exist.`);
  const name = `${basename(file, extname(file))}.mjs`;
  let code: string;
  try {
    code = await bundleModule(file, join(dirname(file), name));
  } catch (error) {
    throw new Error(`uploadFile: ${basename(file)} does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }
  return new UploadFile(pathToFileURL(file).href, name, code);
}
