/**
 * The language server's evaluation of a graph file, in a process of its own that Node's permission
 * model keeps from writing files, starting processes or threads and loading addons (evaluate.ts
 * starts it with the flags). It loads the bundle of the editor's text in the file's place, as
 * `skein run` loads the file, and writes one JSON line on file descriptor 3 (the file's own
 * console output stays out of it): each key with its dependencies and, for an array headed by
 * something that is not a function, what that is; or why loading failed, at the user's line that
 * threw when the stack has one.
 *
 * argv: the bundle's path, the graph file's path.
 */
import { writeSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileGraph, dependencyKeys } from '../graph/compile.js';
import { describeValue } from '../graph/spec.js';
import { checkHead } from '../core/state.js';
import { loadGraphFile } from '../loader/loadGraph.js';
import { userStack } from '../cli/stack.js';
import type { Evaluation } from './evaluate.js';

const [bundle, file] = process.argv.slice(2) as [string, string];

function report(result: Evaluation): never {
  writeSync(3, `${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** The first frame of `stack` in the user's code: file (a path), line and column, 1-based. */
function userFrame(stack: string): { file: string; line: number; column: number } | null {
  for (const line of userStack(stack).split('\n')) {
    const m = /^\s*at (?:.*\()?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (m === null) continue;
    const where = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    if (where === bundle || where.includes('/node_modules/')) continue;
    return { file: where, line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}

// the server's end of stdin closes when it goes, and so does this process, whatever the file does
process.stdin.on('end', () => process.exit(3));
process.stdin.on('error', () => process.exit(3));
process.stdin.resume();

try {
  const loaded = await loadGraphFile(file, { bundle: pathToFileURL(bundle).href });
  const g = loaded.compiled ?? compileGraph(loaded.graph);
  const checked = new Map<unknown, boolean>();
  report({
    ok: true,
    keys: g.keys.map((key, t) => {
      const v = g.values[t];
      const head = Array.isArray(v) && v.length > 0 && typeof v[0] !== 'function' ? describeValue(v[0]) : null;
      // what a run would refuse as it starts (undefined or a class at the head), in the run's words
      let refused: string | null = null;
      try {
        checkHead(key, v, checked);
      } catch (error) {
        refused = error instanceof Error ? error.message : String(error);
      }
      return { key, deps: dependencyKeys(g, t), head, refused };
    }),
    cycle: null,
  });
} catch (error) {
  const cycle = (error as { cycle?: unknown }).cycle;
  if (Array.isArray(cycle)) report({ ok: true, keys: [], cycle: cycle.map(String) });
  const e = error instanceof Error ? error : new Error(String(error));
  if ((e as { code?: unknown }).code === 'ERR_ACCESS_DENIED') {
    report({ ok: false, kind: 'sandbox', message: `${file.split('/').pop()} writes a file, starts a process or a thread, or loads an addon as it loads, which the editor's check does not let it do (it runs the file in a sandbox); the problems shown come from reading the source only.`, at: userFrame(e.stack ?? '') });
  }
  // a module not found names the bundle as its importer: the graph file is what imported it
  const message = e.message.split(bundle).join(file).split(pathToFileURL(bundle).href).join(pathToFileURL(file).href);
  report({ ok: false, kind: 'load', message, at: userFrame(e.stack ?? '') });
}
