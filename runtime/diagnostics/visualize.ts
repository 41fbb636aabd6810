/**
 * `skein visualize`: a self-contained HTML file of the graph panel (scripts, styles, icons, the
 * layout worker and the data all inline) that opens in any browser. Also builds the record of a
 * graph that has not run yet, so a graph file can be drawn before it is run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mergeGraphs, setVisualizeHook } from '../graph/delayed.js';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type CompiledGraph, compileGraph, isCompiledGraph } from '../graph/compile.js';
import { orderCompiled } from '../graph/order.js';
import type { Dsk } from '../graph/spec.js';
import { graphSection } from './recorder.js';
import { SKEIN_VERSION } from '../version.js';
import { panelPage, readPageTemplate } from './page.js';
import { RECORD_FORMAT, RECORD_VERSION, type RunRecord } from './record.js';

/** The record of a graph that has not run: structure only, every task waiting. */
export function graphRecord(dsk: Dsk | CompiledGraph, keys: readonly string[], graphFile: string | null): RunRecord {
  const g = isCompiledGraph(dsk) ? dsk : compileGraph(dsk);
  const none = (): null[] => new Array<null>(g.size).fill(null);
  const now = Date.now();
  return {
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    skeinVersion: SKEIN_VERSION,
    createdAt: new Date(now).toISOString(),
    run: { graphFile, scheduler: 'not run', numWorkers: 0, keys: [...keys], startedAt: now, finishedAt: now, status: 'ok', cpus: availableParallelism(), node: process.version },
    graph: graphSection(g, orderCompiled(g)),
    tasks: { status: new Array<string>(g.size).fill('waiting'), ready: none(), dispatched: none(), started: none(), finished: none(), received: none(), released: none(), erred: none(), worker: new Array<number>(g.size).fill(-1), resultBytes: none() },
    workers: [],
    resources: [],
    results: [],
    error: null,
  };
}

/** Files of the built panel (dist/webview/). */
export function panelAssets(): { page: string; script: string; style: string; codiconCss: string; codiconFont: Buffer; elkWorker: string } {
  const file = (name: string): URL => new URL(`../webview/${name}`, import.meta.url);
  return {
    page: readPageTemplate(file('')),
    script: readFileSync(file('panel.js'), 'utf8'),
    style: readFileSync(file('panel.css'), 'utf8'),
    codiconCss: readFileSync(file('codicon.css'), 'utf8'),
    codiconFont: readFileSync(file('codicon.ttf')),
    elkWorker: readFileSync(file('elk-worker.js'), 'utf8'),
  };
}

/** Escapes text for a <script> element's content. */
function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** A self-contained HTML page of the panel showing `record`. */
export function standaloneHtml(record: RunRecord, title: string): string {
  return embeddedDataPage(title, { record, title });
}

/** The panel app as one page, given `data` to show (the page's `skein-data`: a record, or messages as a live page gets them). */
export function embeddedDataPage(title: string, data: object): string {
  return inlinedPanelPage(title, `<script type="application/json" id="skein-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`);
}

/**
 * The panel app as one page, scripts, styles and fonts inlined under a nonce, with `data` (a
 * JSON script element) telling it what to show; `connect` adds a CSP connect-src (the dashboard's
 * WebSocket).
 */
export function inlinedPanelPage(title: string, data: string, connect?: string): string {
  const a = panelAssets();
  const nonce = randomBytes(16).toString('base64');
  const font = `url(data:font/ttf;base64,${a.codiconFont.toString('base64')})`;
  const codicons = a.codiconCss.replace(/url\([^)]*codicon\.ttf[^)]*\)/g, font);
  return panelPage(a.page, {
    csp: `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; font-src data:; img-src data:; worker-src blob:${connect ? `; connect-src ${connect}` : ''}`,
    title,
    head: `<style nonce="${nonce}">${codicons}</style>\n<style nonce="${nonce}">${a.style}</style>`,
    scripts: [data, `<script type="text/plain" id="skein-elk-worker">${scriptText(a.elkWorker)}</script>`, `<script nonce="${nonce}">${scriptText(a.script)}</script>`].join('\n'),
  });
}

setVisualizeHook((value, file) => {
  const graph = mergeGraphs([value]);
  writeFileSync(file, standaloneHtml(graphRecord(graph, [value.key], null), `Skein: ${value.key}`));
});
