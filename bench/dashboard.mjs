// `npm run bench`, dashboard part: what serving the dashboard costs the scheduler. A 100,000-task
// graph runs on the default client (2 worker processes x 1 thread) with no page open, then with
// the dashboard's Graph page open in headless Chromium, alternating; each figure is the median.
// The page's longest main-thread task during the watched runs says whether it froze.
// Usage: node bench/dashboard.mjs [--runs N] [--json]
import { get } from 'skein';
import { Client } from 'skein/distributed';
import { chromium } from 'playwright-core';
import * as shapes from './shapes.mjs';

const argv = process.argv.slice(2);
const RUNS = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 3;
const json = argv.includes('--json');
const N = 100_000;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const client = new Client();
await client.ready;
const big = shapes.wide(N);
const timed = async () => {
  const t0 = performance.now();
  await get(big.graph, big.key);
  return performance.now() - t0;
};
await timed(); // warm-up: workers measured, modules loaded

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
const closed = [];
const open = [];
let longest = 0;
try {
  for (let r = 0; r < RUNS; r++) {
    closed.push(await timed());
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    await page.goto(client.dashboardLink.replace('/status', '/graph'));
    await page.evaluate(() => {
      window.skeinLongest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.skeinLongest = Math.max(window.skeinLongest, e.duration);
      }).observe({ type: 'longtask' });
    });
    open.push(await timed());
    // the page catches up with the last states
    await page.waitForTimeout(1500);
    longest = Math.max(longest, await page.evaluate(() => window.skeinLongest));
    await page.close();
  }
} finally {
  await browser.close();
  await client.close();
}
const result = { tasks: N, closedMs: median(closed), openMs: median(open), ratio: median(open) / median(closed), longestTaskMs: longest, runs: RUNS };
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(`dashboard  ${N.toLocaleString('en')}-task wide graph on the default client: closed ${(result.closedMs / 1000).toFixed(2)} s, Graph page open in Chromium ${(result.openMs / 1000).toFixed(2)} s (median of ${RUNS} each, alternating)\n`);
  process.stdout.write(`ratio      dashboard open / closed ${result.ratio.toFixed(2)}x (target at most 1.10x); the page's longest main-thread task ${longest.toFixed(0)} ms (target under 250 ms)\n`);
}
