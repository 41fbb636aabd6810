/**
 * Evaluating a graph file for the language server, never in the server's own process: the
 * editor's text (saved or not) is bundled by esbuild with the local modules it imports, and the
 * bundle is loaded by a Node process of its own (evaluator.ts) under Node's permission model:
 * it reads files, and may not write any, start processes or threads, or load addons. It gets a
 * time limit, after which it is killed; it ends with the server too (and the next server removes
 * the bundle a killed one left). What it says: the graph's
 * keys and dependencies as the file builds them (code the parser cannot follow included), or why
 * the file does not load, at the line that failed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { bundleText } from '../loader/bundle.js';
import { runtimeFile } from '../loader/register.js';

/** Where a failure came from: a file, and its line and column (1-based). */
export interface Place {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type Evaluation =
  | {
      readonly ok: true;
      /**
       * Every key, with the keys it depends on; `head`: what heads an array that a function does
       * not (a plain list, then); `refused`: why a run would refuse it as it starts (undefined or a
       * class at the head), in the run's words.
       */
      readonly keys: ReadonlyArray<{ readonly key: string; readonly deps: readonly string[]; readonly head: string | null; readonly refused: string | null }>;
      /** A cycle, when the graph has one (keys around it, the first again at the end); `keys` is empty then. */
      readonly cycle: readonly string[] | null;
    }
  /** load: it throws as it loads (or does not resolve an import); timeout: it took too long; sandbox: it did what the sandbox forbids. */
  | { readonly ok: false; readonly kind: 'load' | 'timeout' | 'sandbox'; readonly message: string; readonly at: Place | null };

export interface EvaluateOptions {
  /** The Node.js that runs the evaluation (default: this one). */
  readonly node?: string;
  /** Killed after this long (ms). */
  readonly timeoutMs: number;
  /** Ends the evaluation early (a newer text came). */
  readonly signal?: AbortSignal;
}

const children = new Set<import('node:child_process').ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Node's permission model: `--permission` from Node 23.5, `--experimental-permission` before. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

let bundles = 0;
let swept = false;

/** True while process `pid` runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Bundles (named `<pid>-…`) left by servers that were killed while they evaluated. */
function sweepStale(dir: string): void {
  swept = true;
  for (const name of readdirSync(dir)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Evaluates `text`, the contents of the graph file at `path`. Undefined when the text does not
 * bundle for a reason other than an import it cannot resolve (a syntax error: the parser's
 * diagnostics say it already), or when `signal` ended it.
 */
export async function evaluateGraphText(text: string, path: string, options: EvaluateOptions): Promise<Evaluation | undefined> {
  const dir = join(tmpdir(), `skein-lsp-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!swept) sweepStale(dir);
  const outfile = join(dir, `${process.pid}-${++bundles}-${basename(path, extname(path))}.mjs`);
  const bundled = await bundleText(text, path, outfile);
  if ('errors' in bundled) {
    // esbuild names files relative to the working folder
    const unresolved = bundled.errors.find((e) => e.text.startsWith('Could not resolve'));
    if (unresolved === undefined) return undefined;
    const at = unresolved.location === null ? null : { file: resolve(unresolved.location.file), line: unresolved.location.line, column: unresolved.location.column + 1 };
    return { ok: false, kind: 'load', message: `${unresolved.text}: no such file or package from ${basename(path)}'s folder.`, at };
  }
  if (options.signal?.aborted) return undefined;
  writeFileSync(outfile, bundled.code);
  try {
    return await run(outfile, path, options);
  } finally {
    rmSync(outfile, { force: true });
  }
}

function run(bundle: string, path: string, options: EvaluateOptions): Promise<Evaluation | undefined> {
  return new Promise((resolve) => {
    const child = spawn(options.node ?? process.execPath, [permissionFlag(), '--allow-fs-read=*', '--enable-source-maps', '--no-warnings', fileURLToPath(runtimeFile('lspEvaluator.js')), bundle, path], {
      cwd: join(path, '..'),
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let err = '';
    (child.stdio[3] as Readable).on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.stdin!.on('error', () => undefined);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const abort = (): void => void child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) return resolve(undefined);
      if (timedOut) {
        const s = options.timeoutMs / 1000;
        return resolve({
          ok: false,
          kind: 'timeout',
          message: `Loading ${basename(path)} to check it took longer than ${s} s, so Skein stopped it; the problems shown come from reading the source only. Does the file wait for something as it loads (a top-level await, a server)?`,
          at: null,
        });
      }
      const line = out.trim().split('\n').pop();
      if (line !== undefined && line !== '') return resolve(JSON.parse(line) as Evaluation);
      // what it said last that reads as an error (a process.exit() in the file says nothing)
      const said = err.split('\n').filter((l) => /^\w*Error\b/.test(l)).pop();
      resolve({ ok: false, kind: 'load', message: `Loading ${basename(path)} ended its process (exit code ${code ?? 'none'}) before it could say anything${said === undefined ? '' : `: ${said}`}.`, at: null });
    });
  });
}
