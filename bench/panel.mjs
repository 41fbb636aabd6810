// `node bench/panel.mjs`: how fast the graph panel opens and moves, in headless Chromium.
// - a 10,000-task recording: time to the first complete frame, and frames per second while
//   panning and zooming (collapsed by group, and with a 1,000-task group expanded);
// - a 100,000-task recording: time until it shows collapsed by group, and the longest main-thread
//   task meanwhile (the page must not freeze).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skein-panel-bench-'));

function recording(n, groups) {
  const graph = join(dir, `g${n}.graph.mjs`);
  const per = n / groups;
  writeFileSync(
    graph,
    `export const inc = (x) => x + 1;\nexport const sum = (...xs) => xs.length;\nconst g = {};\nfor (let k = 0; k < ${groups}; k++) for (let i = 0; i < ${per}; i++) g['step' + k + '-' + i] = k === 0 ? [inc, i] : [inc, 'step' + (k - 1) + '-' + i];\nexport default g;\n`,
  );
  const rec = join(dir, `g${n}.skein.json`);
  const html = join(dir, `g${n}.html`);
  for (const args of [['run', graph, '--scheduler', 'sync', '--record', rec, '--no-progress', '--json'], ['visualize', rec, '-o', html]]) {
    const r = spawnSync(process.execPath, [join(root, 'bin/skein.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  return html;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

async function open(html) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`file://${html}`);
  await page.waitForFunction(() => window.skeinFirstFrame !== undefined, null, { timeout: 60_000 });
  return page;
}

/** Frames per second of 90 animation frames, each panning and zooming the graph. */
function fps(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        const g = window.skeinPanel.graph;
        let frames = 0;
        const start = performance.now();
        const tick = () => {
          g.tx += 3;
          g.zoomAt(400, 300, frames % 20 < 10 ? 1.02 : 1 / 1.02);
          g.drawNow();
          if (++frames < 90) requestAnimationFrame(tick);
          else resolve((frames * 1000) / (performance.now() - start));
        };
        requestAnimationFrame(tick);
      }),
  );
}

const results = {};
{
  const page = await open(recording(10_000, 20));
  results.firstFrame10kMs = await page.evaluate(() => window.skeinFirstFrame);
  results.fps10kCollapsed = await fps(page);
  results.expandMs = await page.evaluate(async () => {
    const t = performance.now();
    await window.skeinPanel.select('step3-0'); // expands the group, lays it out, centers the task
    return performance.now() - t;
  });
  await page.waitForFunction(() => window.skeinPanel.graph.graph.nodes.length > 500, null, { timeout: 60_000 });
  results.visibleNodesExpanded = await page.evaluate(() => window.skeinPanel.graph.graph.nodes.length);
  results.fps10kExpanded = await fps(page);
  await page.close();
}
{
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const html = recording(100_000, 10);
  await page.evaluate(() => undefined);
  await page.addInitScript(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`file://${html}`);
  await page.waitForFunction(() => window.skeinFirstFrame !== undefined, null, { timeout: 60_000 });
  results.open100kCollapsedMs = await page.evaluate(() => window.skeinFirstFrame);
  results.visibleNodes100k = await page.evaluate(() => window.skeinPanel.graph.graph.nodes.length);
  results.longestMainThreadTask100kMs = await page.evaluate(() => window.__longest);
  await page.close();
}
await browser.close();
rmSync(dir, { recursive: true, force: true });
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  process.stdout.write(`panel, 10,000 tasks: first complete frame ${results.firstFrame10kMs.toFixed(0)} ms; pan/zoom ${results.fps10kCollapsed.toFixed(0)} fps collapsed; expanding a 500-task group ${results.expandMs.toFixed(0)} ms, then ${results.fps10kExpanded.toFixed(0)} fps with ${results.visibleNodesExpanded} nodes on screen\n`);
  process.stdout.write(`panel, 100,000 tasks: shown collapsed (${results.visibleNodes100k} group nodes) after ${results.open100kCollapsedMs.toFixed(0)} ms; longest main-thread task ${results.longestMainThreadTask100kMs.toFixed(0)} ms\n`);
}
