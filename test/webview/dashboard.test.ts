/// <reference lib="dom" />
// The dashboard: the panel app served by a live LocalCluster's scheduler, in headless Chromium.
// Its tables against client.schedulerInfo(), the graph following a run, a failed task with the
// user's line; and what the server refuses (other paths, a public address without a token, a
// request without the token). Screenshots in docs/images/ (with UPDATE_SCREENSHOTS=1).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { Client, Dashboard, performanceReport } from 'skein/distributed';
import { SchedulerState } from '../../runtime/distributed/schedulerState.js';
import { block, blockSum, fail, inc, incUpTo, sleep, spin } from '../data/ops.js';
import { until } from '../until.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shots = process.env.UPDATE_SCREENSHOTS ? join(root, 'docs/images') : join(root, 'dist-test/screenshots/dashboard');

type Panel = { model?: { size: number; states: string[] } };

describe('dashboard (a live LocalCluster, in Chromium)', () => {
  let browser: Browser;
  let client: Client;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    client = new Client({ nWorkers: 2, threadsPerWorker: 1, setAsDefault: false });
    await client.ready;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
  });
  after(async () => {
    await browser?.close();
    await client?.close();
  });

  it('serves the app at client.dashboardLink; its Workers tab lists the workers as schedulerInfo() does', async () => {
    assert.match(client.dashboardLink ?? '', /^http:\/\/127\.0\.0\.1:\d+\/status$/);
    await page.goto(client.dashboardLink!);
    // /status opens on the task stream; the table of workers is the Workers tab
    assert.equal((await page.locator('#tab-cluster').innerText()).trim(), 'Workers');
    await page.click('#tab-cluster');
    const rows = await until('two worker rows', async () => {
      const r = await page.locator('#cluster-workers tbody tr').allInnerTexts();
      return r.length === 2 ? r : undefined;
    });
    const info = (await client.schedulerInfo()) as { workers: Record<string, { name: string; pid: number; nthreads: number }> };
    const cells = await page.locator('#cluster-workers tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (c) => c.textContent)));
    const shown = Object.fromEntries(cells.map((c) => [c[1], { name: c[0], pid: Number(c[2]), nthreads: Number(c[3]) }]));
    const expected = Object.fromEntries(Object.entries(info.workers).map(([address, w]) => [address, { name: w.name, pid: w.pid, nthreads: w.nthreads }]));
    assert.deepEqual(shown, expected, rows.join('\n'));
    // each worker's CPU and memory, from its heartbeats
    for (const c of cells) {
      assert.match(c[4]!, /^\d+ %$/);
      assert.match(c[5]!, /^\d+ MB$/);
      // managed (results held), unmanaged (the rest of the process), spilled to disk
      assert.match(c.slice(6, 9).join(' | '), /^\d+ MB \| \d+ MB \| 0 MB$/);
    }
    assert.equal(await page.locator('#cluster-workers caption').innerText(), '2 workers, 2 threads');
    // sortable by a header, from the keyboard too
    await page.locator('#cluster-workers th button', { hasText: 'PID' }).focus();
    await page.keyboard.press('Enter');
    const pids = await page.locator('#cluster-workers tbody tr td:nth-child(3)').allInnerTexts();
    assert.deepEqual(pids.map(Number), [...pids.map(Number)].sort((a, b) => a - b));
    assert.equal(await page.locator('#cluster-workers th[aria-sort="ascending"]').innerText(), 'PID');
    await page.screenshot({ path: join(shots, 'dashboard-cluster.png') });
    assert.deepEqual(errors, []);
  });

  it('draws the cluster\'s graph on the Graph tab and follows its tasks to memory', async () => {
    await page.click('#tab-graph');
    const futures = Array.from({ length: 12 }, (_, i) => client.options({ pure: false }).submit(sleep, 150 + i));
    const total = client.submit(inc, futures[0]!);
    // mid-run: the page knows every task, some not done yet
    const midRun = await until('the graph on the page', async () => {
      const p = await page.evaluate(() => {
        const panel = (window as unknown as { skeinPanel: Panel }).skeinPanel;
        return panel.model ? { size: panel.model.size, states: [...panel.model.states] } : undefined;
      });
      return p !== undefined && p.size >= 13 ? p : undefined;
    });
    assert.ok(midRun.states.some((s) => s !== 'memory'), midRun.states.join(','));
    await page.screenshot({ path: join(shots, 'dashboard-graph.png') });
    await Promise.all([...futures, total]);
    const states = await until('every task in memory on the page', async () => {
      const s = await page.evaluate(() => (window as unknown as { skeinPanel: Panel }).skeinPanel.model?.states);
      return s !== undefined && s.length >= 13 && s.every((x) => x === 'memory') ? s : undefined;
    });
    assert.ok(states.length >= 13);
    // the task stream: a bar per task that ran, on a lane per worker thread
    await page.click('#tab-workers');
    assert.equal((await page.locator('#tab-workers').innerText()).trim(), 'Task stream');
    const stream = await until('a bar per sleep on the task stream', async () => {
      const s = await page.evaluate(() => {
        const p = (window as unknown as { skeinPanel: { stream?: { lanes: number; bars: Array<{ task: number; lane: number; start: number; end: number }> } } }).skeinPanel;
        return p.stream ? { lanes: p.stream.lanes, bars: p.stream.bars.length, spans: p.stream.bars.map((b) => b.end - b.start) } : undefined;
      });
      return s !== undefined && s.bars >= 13 ? s : undefined;
    });
    assert.equal(stream.lanes, 2, 'a lane per worker thread: 2 workers of 1 thread');
    // the sleeps ran 150 to 161 ms each
    assert.equal(stream.spans.filter((ms) => ms >= 145).length, 12, stream.spans.join(', '));
    await page.screenshot({ path: join(shots, 'dashboard-status.png') });
    // progress by key group, and the scheduler's own load, on the Workers tab
    await page.click('#tab-cluster');
    const sleeps = await until('the sleep group done', async () => {
      const cells = await page.locator('#cluster-groups tr[data-group="sleep"] td').allInnerTexts();
      return cells[5] === '12' ? cells : undefined;
    });
    assert.deepEqual(sleeps, ['sleep', '12', '0', '0', '0', '12', '0', '0']);
    const system = await page.locator('#cluster-system tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.measure));
    assert.deepEqual(system, ['CPU', 'Memory', 'Event-loop delay (p99)']);
    assert.match(await page.locator('#cluster-system tr[data-measure="Memory"] td').nth(1).innerText(), /^\d+ MB$/);
    await page.screenshot({ path: join(shots, 'dashboard-cluster.png') });
  });

  it('lists a task that raised on Failed tasks: its key, the error, the worker, the user\'s line', async () => {
    const failing = client.options({ key: 'too-big' }).submit(incUpTo, 7, 3);
    await assert.rejects(failing.result());
    await page.click('#tab-failed');
    const row = await until('the failed task row', async () => {
      const r = page.locator('#view-failed tr[data-key="too-big"]');
      return (await r.count()) === 1 ? r : undefined;
    });
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], 'too-big');
    assert.equal(cells[1], 'Error: 7 reached 3');
    assert.match(cells[2]!, /^worker-[01]$/);
    assert.match(cells[3]!, new RegExp(`at incUpTo \\(.*test/data/ops\\.ts:\\d+:\\d+\\)`));
    assert.match(await page.locator('#tab-failed').innerText(), /Failed tasks \(1\)/);
    await page.screenshot({ path: join(shots, 'dashboard-failed.png') });
    assert.deepEqual(errors, []);
  });

  it('sends the task stream only to a page that shows it, and all of it when that tab opens', async () => {
    const other = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const frames: Array<{ kind: string; bars?: unknown[]; replace?: boolean }> = [];
    other.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(JSON.parse(String(f.payload)) as { kind: string })));
    try {
      await other.goto(client.dashboardLink!.replace('/status', '/graph'));
      await until('the graph on the page', async () => (frames.some((f) => f.kind === 'record') ? true : undefined));
      const fs = Array.from({ length: 6 }, (_, i) => client.options({ key: `quiet-${i}` }).submit(sleep, 40 + i));
      await client.gather(fs);
      await new Promise((r) => setTimeout(r, 400)); // two ticks of the dashboard after the last one ran
      assert.deepEqual(frames.filter((f) => f.kind === 'stream'), [], 'no bars for a page on the Graph tab');
      await other.click('#tab-workers');
      const all = await until('the whole stream at once', async () => frames.find((f) => f.kind === 'stream'));
      assert.equal(all.replace, true);
      const bars = await other.evaluate(() => (window as unknown as { skeinPanel: { stream: { bars: Array<{ task: number }> } } }).skeinPanel.stream.bars.length);
      assert.ok(bars >= 6, `${bars} bars`);
    } finally {
      await other.close();
    }
  });

  it('says on the Profile tab that profiling is off for a cluster started without it', async () => {
    await page.click('#tab-profile');
    assert.match(await page.locator('#view-profile').innerText(), /^Profiling is off\. Start the cluster with profile: true/);
  });

  it('serves nothing but its page: other paths are not found, whatever they spell', async () => {
    const base = client.dashboardLink!;
    for (const path of ['/../package.json', '/%2e%2e/%2e%2e/package.json', '/status/../../package.json', '/panel.js', '/dist/runtime/cli.js', '/ws']) {
      const r = await fetch(new URL(path, base));
      assert.equal(r.status, 404, path);
    }
    assert.equal((await fetch(new URL('/workers', base))).status, 200);
  });
});

describe('dashboard Profile page (a LocalCluster with profile: true, in Chromium)', () => {
  it("draws the workers' sampled task code as a flame graph: the hot function by name and line, most of the samples; a click zooms in", async () => {
    const client = new Client({ nWorkers: 1, threadsPerWorker: 2, profile: true, setAsDefault: false });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      await client.ready;
      // about 1.2 s of one function's arithmetic on two threads
      const spins = client.map(spin, [300, 301, 302, 303]);
      const done = (await client.gather(spins)) as number[];
      assert.equal(done.length, 4);
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(client.dashboardLink!.replace('/status', '/profile'));
      const frame = await until('the spin frame', async () => {
        const f = page.locator('.flame .frame[data-name="spin"]');
        return (await f.count()) > 0 ? f.first() : undefined;
      });
      // at the line of the TypeScript source (through its source map), not of the code V8 ran
      const line = readFileSync(join(root, 'test/data/ops.ts'), 'utf8').split('\n').findIndex((l) => l.startsWith('export function spin(')) + 1;
      assert.equal(await frame.innerText(), `spin (data/ops.ts:${line})`);
      const samples = Number(await frame.getAttribute('data-samples'));
      const all = await page.locator('.flame .frame').first().getAttribute('data-samples');
      // sampled every 10 ms: 1.2 s of spinning is ~120 samples, most of all the task code
      assert.ok(samples >= 40 && samples >= 0.5 * Number(all), `${samples} of ${all}`);
      assert.match(await page.locator('#view-profile p').first().innerText(), /^\d+ samples, about [\d.]+ m?s of task code sampled every 10 ms on the workers' threads\./);
      await page.screenshot({ path: join(shots, 'dashboard-profile.png') });
      await frame.click();
      assert.equal(await page.locator('.flame-path .crumb').last().innerText(), 'spin');
      assert.equal(await page.locator('.flame .frame').first().getAttribute('data-name'), 'spin');
      await page.locator('.flame-path .crumb').first().click();
      assert.equal(await page.locator('.flame-path .crumb').count(), 1);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await client.close();
    }
  });
});

describe('performance report and profile file (a LocalCluster with profile: true; the pages opened in Chromium)', () => {
  it('performanceReport writes one page: task stream, graph, overhead per group, workers with memory over time and bytes moved, failed tasks, profile', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-report-test-'));
    const client = new Client({ nWorkers: 2, threadsPerWorker: 1, profile: true, dashboardAddress: null, setAsDefault: false });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      await client.ready;
      const file = join(dir, 'report.html');
      const out = await performanceReport(
        file,
        async () => {
          // 2 MB blocks made on worker-0, summed on worker-1: 4 MB move between them
          const blocks = [0, 1].map((i) => client.options({ key: `block-${i}`, workers: ['worker-0'] }).submit(block, i, 2));
          const sums = blocks.map((b, i) => client.options({ key: `blocksum-${i}`, workers: ['worker-1'] }).submit(blockSum, b));
          const spins = client.map(spin, [300, 301, 302, 303]);
          await assert.rejects(client.options({ key: 'parse-7' }).submit(fail, 'bad row 7').result());
          const results = (await client.gather([...sums, ...spins])) as unknown[];
          await sleep(1500); // a heartbeat or two: the workers' memory and the bytes they fetched reach the scheduler
          return results.length;
        },
        { client },
      );
      assert.equal(out, 6, 'performanceReport resolves to what the function resolves to');
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
      await page.goto(pathToFileURL(file).href);
      assert.match(await page.title(), /^Skein performance report: 9 tasks in \d+\.\d s$/);
      const tabs = await page.locator('.tabs [id^="tab-"]:visible').allInnerTexts();
      assert.deepEqual(tabs.map((t) => t.trim()), ['Graph', 'Task stream', 'Overhead', 'Tasks', 'Workers', 'Failed tasks (1)', 'Profile']);
      const shape = await page.evaluate(() => {
        const m = (window as unknown as { skeinPanel: { model: { size: number; record: { graph: { keys: string[]; dependencies: number[][] }; tasks: { worker: number[] } } } } }).skeinPanel.model;
        const { keys, dependencies } = m.record.graph;
        return { size: m.size, deps: Object.fromEntries(keys.filter((k) => k.startsWith('blocksum')).map((k) => [k, dependencies[keys.indexOf(k)]!.map((d) => keys[d])])), lanes: new Set(m.record.tasks.worker).size };
      });
      assert.deepEqual(shape, { size: 9, deps: { 'blocksum-0': ['block-0'], 'blocksum-1': ['block-1'] }, lanes: 2 });
      // the task stream is the first tab: a bar per task run, a lane per worker thread
      await page.screenshot({ path: join(shots, 'report-stream.png') });
      await page.click('#tab-overhead');
      const overhead = await page.locator('#view-overhead').innerText();
      for (const group of ['block', 'blocksum', 'spin']) assert.ok(overhead.includes(group), overhead);
      await page.click('#tab-cluster');
      const rows = await page.locator('#cluster-workers table.workers tbody tr').count();
      assert.equal(rows, 2);
      assert.equal(await page.locator('#cluster-workers table.workers tbody svg[aria-label*="memory over the last"]').count(), 2);
      const moved = await page.locator('#cluster-workers table.transfers tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (c) => c.textContent)));
      assert.deepEqual(moved, [['worker-0', 'worker-1', '4 MB']]);
      await page.screenshot({ path: join(shots, 'report-workers.png') });
      await page.click('#tab-failed');
      assert.match(await page.locator('#view-failed').innerText(), /parse-7[\s\S]*Error: bad row 7/);
      await page.click('#tab-profile');
      assert.ok((await page.locator('.flame .frame[data-name="spin"]').count()) > 0);
      assert.deepEqual(errors, []);

      // written when the function throws too, and the error goes on
      const failed = join(dir, 'failed.html');
      await assert.rejects(performanceReport(failed, () => Promise.reject(new Error('boom')), { client }), { message: 'boom' });
      assert.ok(existsSync(failed));

      // the profile alone: a tree, and a page with the Profile tab only
      const tree = await client.profile({ filename: join(dir, 'profile.html') });
      assert.ok(JSON.stringify(tree.root).includes('"name":"spin"'));
      await page.goto(pathToFileURL(join(dir, 'profile.html')).href);
      assert.deepEqual((await page.locator('.tabs [id^="tab-"]:visible').allInnerTexts()).map((t) => t.trim()), ['Profile']);
      assert.ok((await page.locator('.flame .frame[data-name="spin"]').count()) > 0);
      // since a tree taken earlier: only what ran after it
      const since = await client.profile({ since: tree });
      assert.ok(!JSON.stringify(since.root).includes('"name":"spin"'));
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('profile() says how to turn profiling on when the workers do not sample', async () => {
    const client = new Client({ nWorkers: 1, threadsPerWorker: 1, processes: false, dashboardAddress: null, setAsDefault: false });
    try {
      await assert.rejects(client.profile(), {
        message: 'profile(): the workers are not sampling their threads; start the cluster with profile: true (new Client({ profile: true }), new LocalCluster({ profile: true }), or skein worker --profile).',
      });
    } finally {
      await client.close();
    }
  });
});

describe('dashboard lifetime', () => {
  it('never keeps a program from ending: a script ends with its dashboard open in a browser', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const child = spawn(process.execPath, ['test/data/scripts/dashboardOpen.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const link = await new Promise<string>((resolve) => child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const m = /^(http:\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      }));
      const page = await browser.newPage();
      await page.goto(link);
      const watchedAt = await until('the script to see the page', async () => (out.includes('watched') ? Date.now() : undefined));
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
      if (code === 'hung') child.kill('SIGKILL');
      assert.equal(code, 0, 'the script ended by itself');
      assert.ok(Date.now() - watchedAt < 10_000);
      assert.equal(out, `2\n${link}\nwatched\n`);
    } finally {
      await browser.close();
    }
  });
});

describe('dashboard access', () => {
  it('refuses to listen beyond loopback without a token, saying why', async () => {
    await assert.rejects(Dashboard.start(new SchedulerState(), { address: '0.0.0.0:0' }), {
      code: 'DASHBOARD_TOKEN',
      message: 'The dashboard would listen on 0.0.0.0, beyond this machine, and anyone who reaches it would see your tasks and their errors: give it a token (dashboardToken, or --dashboard-token) that its link will carry, or listen on 127.0.0.1.',
    });
  });

  it('with a token, serves only requests that carry it', async () => {
    const token = Dashboard.newToken();
    const dashboard = await Dashboard.start(new SchedulerState(), { address: '0.0.0.0:0', token });
    try {
      const link = new URL(dashboard.link);
      assert.equal(link.searchParams.get('token'), token);
      const local = new URL(`${link.pathname}${link.search}`, `http://127.0.0.1:${link.port}`);
      assert.equal((await fetch(local)).status, 200);
      const without = new URL(local);
      without.search = '';
      assert.equal((await fetch(without)).status, 403);
      without.searchParams.set('token', `${token}x`);
      assert.equal((await fetch(without)).status, 403);
    } finally {
      await dashboard.close();
    }
  });

  it('takes the next free port when its port is taken', async () => {
    const first = await Dashboard.start(new SchedulerState(), { address: '127.0.0.1:0' });
    const port = Number(new URL(first.link).port);
    const second = await Dashboard.start(new SchedulerState(), { address: `127.0.0.1:${port}` });
    try {
      // the next one, unless another program holds that too
      const next = Number(new URL(second.link).port);
      assert.ok(next > port && next <= port + 50, `${next} after ${port}`);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
