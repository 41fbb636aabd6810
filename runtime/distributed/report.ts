/**
 * Standalone pages of the panel app for a cluster: `client.profile({ filename })` (the Profile
 * tab alone) and `performanceReport(filename, fn)` (Dask's `performance_report`): the task stream,
 * the graph of what ran, the overhead per key group, the workers with their memory over the span
 * and the bytes each fetched from the others, the failed tasks, and the profile of the span. One
 * HTML file, everything inlined, opened by any browser without a server.
 */
import { writeFile } from 'node:fs/promises';
import { embeddedDataPage } from '../diagnostics/visualize.js';
import type { ToWebview } from '../../webview/protocol.js';
import { Client } from './client.js';

/** The panel app showing `messages` (as a live page would get them), opened on `view`. */
export function reportPage(title: string, messages: readonly ToWebview[], view: 'workers' | 'profile'): string {
  return embeddedDataPage(title, { title, messages, view });
}

/**
 * Runs `fn` and writes a report of what the cluster did meanwhile to `filename` (Dask's
 * `performance_report`), whether `fn` resolves or throws; resolves to what `fn` resolves to.
 * Uses the default client (the latest `new Client()`), or `options.client`. The profile part
 * needs a cluster started with `profile: true`; without it the report says profiling was off.
 */
export async function performanceReport<T>(filename: string, fn: () => T | Promise<T>, options: { client?: Client } = {}): Promise<T> {
  const client = options.client ?? Client.current();
  if (client === undefined) throw new Error('performanceReport: there is no client to report on; create one first (new Client()) or pass { client }.');
  const start = Date.now();
  const before = await client.profile().catch(() => null);
  try {
    return await fn();
  } finally {
    const data = await client.performanceData(start);
    const profile = before === null ? null : await client.profile({ since: before });
    const ms = Date.now() - start;
    const title = `Skein performance report: ${data.record.graph.keys.length} tasks in ${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
    const messages: ToWebview[] = [
      { kind: 'record', record: data.record, title },
      { kind: 'workers', workers: data.workers },
      { kind: 'failed', tasks: data.failed },
    ];
    // without one, the Profile tab says profiling was off and how to turn it on
    if (profile !== null) messages.push({ kind: 'profile', intervalMs: profile.intervalMs, root: profile.root });
    await writeFile(filename, reportPage(title, messages, 'workers'));
  }
}
