/**
 * A worker thread's sampling profiler: V8's own (through an inspector session on the thread
 * itself), started with the first batch that asks for it. Once a second, when the thread's event
 * loop is free (between tasks, while tasks wait on promises), and at the end of a batch when a
 * second has passed, it takes the samples so far as a call tree (diagnostics/flame.ts) and posts
 * them on a BroadcastChannel its process listens to; then it samples on.
 */
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { type CpuProfile, treeOfProfile } from '../diagnostics/flame.js';
import type { ProfileSamples } from './protocol.js';

const FLUSH_MS = 1000;

/** Skein's own bundled files (this file's folder): its frames above a task are left out. */
const OWN_DIR = new URL('.', import.meta.url).href;

/** A frame's place in the user's source (TypeScript through its source map), as a path and a 1-based line. */
function locate(url: string, line: number, column: number): { file: string; line: number } | undefined {
  if (!url.startsWith('file:')) return undefined;
  const entry = findSourceMap(url)?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
  const source = entry?.originalSource;
  if (source === undefined || entry?.originalLine === undefined) return { file: fileURLToPath(url), line: line + 1 };
  return { file: source.startsWith('file:') ? fileURLToPath(source) : source, line: entry.originalLine + 1 };
}

let session: Session | undefined;
let channel: BroadcastChannel | undefined;
let intervalMs = 10;
let lastFlush = 0;

/** Starts sampling this thread (once), posting samples on the channel `name`. */
export function ensureSampling(name: string, everyMs: number): void {
  if (session !== undefined) return;
  intervalMs = everyMs;
  session = new Session();
  session.connect();
  // an inspector session on its own thread answers synchronously
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Math.max(100, Math.round(everyMs * 1000)) });
  session.post('Profiler.start');
  channel = new BroadcastChannel(name);
  channel.unref();
  lastFlush = performance.now();
  setInterval(flushSamples, FLUSH_MS).unref();
}

/** Posts the samples taken since the last flush (when a second has passed, unless `now`). */
export function flushSamples(force = false): void {
  if (session === undefined || channel === undefined) return;
  if (!force && performance.now() - lastFlush < FLUSH_MS * 0.9) return;
  lastFlush = performance.now();
  let profile: CpuProfile | undefined;
  session.post('Profiler.stop', (error, result) => {
    if (!error) profile = (result as { profile: CpuProfile }).profile;
  });
  session.post('Profiler.start');
  const root = profile === undefined ? null : treeOfProfile(profile, { locate, hideTop: (url) => url.startsWith(OWN_DIR) });
  if (root !== null) channel.postMessage({ thread: `thread-${threadId}`, intervalMs, root } satisfies ProfileSamples);
}
