/// <reference lib="dom" />
// The graph panel in headless Chromium: exported HTML files of recorded runs, checked against
// the recordings, with a screenshot per view (test/webview/screenshots/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type RunRecord, readRecord } from 'skein';
import { formatDuration } from '../../runtime/diagnostics/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// committed screenshots change only on purpose: UPDATE_SCREENSHOTS=1 npm test
const shots = process.env.UPDATE_SCREENSHOTS ? join(root, 'test/webview/screenshots') : join(root, 'dist-test/screenshots/webview');
const dir = mkdtempSync(join(tmpdir(), 'skein-panel-'));

function skein(args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin/skein.js'), ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Runs a graph file with --record and exports the recording as HTML. */
function recordAndExport(graph: string, name: string, scheduler = 'threads'): { record: RunRecord; html: string; file: string } {
  const file = join(dir, `${name}.skein.json`);
  skein(['run', graph, '--scheduler', scheduler, '--num-workers', '2', '--record', file, '--no-progress']);
  const html = join(dir, `${name}.html`);
  skein(['visualize', file, '-o', html]);
  return { record: readRecord(file), html, file };
}

let browser: Browser;

async function open(html: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 }, colorScheme: 'dark' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${html}`);
  await page.waitForFunction(() => ((window as unknown as { skeinPanel?: { graph?: { graph: { nodes: unknown[] } } } }).skeinPanel?.graph?.graph.nodes.length ?? 0) > 0, null, { timeout: 20_000 });
  assert.deepEqual(errors, []);
  return page;
}

type Panel = {
  model: { size: number; states: string[]; expanded: Set<string>; groupNames: string[] };
  graph: { graph: { nodes: Array<{ id: string; task: number; group: string; x: number; y: number; width: number; height: number }> }; scale: number; tx: number; ty: number };
  stream: { lanes: number; bars: unknown[] };
};

/**
 * The centre of a node on the graph canvas (canvas pixels): the task `key`, the first node of
 * `group`, or with neither the first task node.
 */
function nodeCenter(page: Page, which: { key?: string; group?: string } = {}): Promise<{ x: number; y: number }> {
  return page.evaluate(({ key, group }) => {
    const p = (window as unknown as { skeinPanel: Panel & { model: { record: RunRecord } } }).skeinPanel;
    const n = p.graph.graph.nodes.find((x) => (group !== undefined ? x.group === group : x.task >= 0 && (key === undefined || p.model.record.graph.keys[x.task] === key)))!;
    return { x: p.graph.tx + (n.x + n.width / 2) * p.graph.scale, y: p.graph.ty + (n.y + n.height / 2) * p.graph.scale };
  }, which);
}

describe('graph panel (exported HTML in Chromium)', () => {
  let etl: ReturnType<typeof recordAndExport>;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    etl = recordAndExport('examples/etl.graph.ts', 'etl');
  });
  after(async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws every task, coloured by the state the recording ends in', async () => {
    const page = await open(etl.html);
    const info = await page.evaluate(() => {
      const p = (window as unknown as { skeinPanel: Panel }).skeinPanel;
      const canvas = document.getElementById('graph-canvas') as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const ratio = window.devicePixelRatio || 1;
      const colors = new Map<string, string>();
      // the colour at the left edge of each node, read back from the canvas
      for (const n of p.graph.graph.nodes) {
        const x = Math.round((p.graph.tx + (n.x + 3) * p.graph.scale) * ratio);
        const y = Math.round((p.graph.ty + (n.y + 3) * p.graph.scale) * ratio);
        const d = ctx.getImageData(x, y, 1, 1).data;
        colors.set(p.model.states[n.task]!, `${d[0]},${d[1]},${d[2]}`);
      }
      return { nodes: p.graph.graph.nodes.length, states: p.model.states, colors: Object.fromEntries(colors), legend: document.getElementById('legend')!.textContent };
    });
    assert.equal(info.nodes, 22);
    assert.deepEqual(info.states, etl.record.tasks.status);
    assert.deepEqual(Object.keys(info.colors).sort(), ['memory', 'released']);
    assert.notEqual(info.colors.memory, info.colors.released);
    assert.equal(info.colors.released, '177,128,215'); // --vscode-charts-purple fallback
    assert.equal(info.colors.memory, '137,209,133'); // --vscode-charts-green fallback
    assert.match(info.legend!, /memory 1.*released 21/);
    // the run's one duration: the figure the CLI and the extension show for it
    assert.equal(typeof etl.record.run.elapsedMs, 'number');
    assert.equal(await page.locator('#summary').innerText(), `22 tasks · 22 done · threads · ${formatDuration(etl.record.run.elapsedMs)}`);
    await page.screenshot({ path: join(shots, 'graph.png') });
    await page.close();
  });

  it('shows details of a clicked task: dependencies and dependents as links, its source', async () => {
    const page = await open(etl.html);
    const at = await nodeCenter(page, { key: 'clean-east' });
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    await page.mouse.click(box.x + at.x, box.y + at.y);
    const details = page.locator('#details');
    await details.waitFor({ state: 'visible' });
    assert.equal(await details.locator('h2').innerText(), 'clean-east');
    const text = await details.innerText();
    assert.match(text, /function\s+clean/);
    assert.match(text, /dependencies\s+load-east/);
    assert.match(text, /dependents\s+revenue-east, units-east/);
    assert.match(text, new RegExp(`source\\s+${join(root, 'examples/etl.graph.ts').replace(/[/.]/g, '\\$&')}:\\d+`));
    assert.equal(await details.locator('button.reveal').count(), 1);
    await details.locator('a', { hasText: 'load-east' }).click();
    assert.equal(await details.locator('h2').innerText(), 'load-east');
    await page.close();
  });

  it('moves through the graph with the keyboard: Right to a dependent, Left back, Down in the column, Enter for details; said to screen readers', async () => {
    const page = await open(etl.html);
    await page.focus('#graph-canvas');
    const said = (): Promise<string> => page.locator('#graph-announce').innerText();
    await page.keyboard.press('ArrowRight'); // nothing selected yet: the first node
    const first = /^(load-\w+), group load, released; 0 dependencies, 1 dependent$/.exec(await said());
    assert.ok(first, await said());
    const region = first[1]!.slice('load-'.length);
    await page.keyboard.press('ArrowRight');
    assert.equal(await said(), `clean-${region}, group clean, released; 1 dependency, 2 dependents`);
    await page.keyboard.press('ArrowLeft');
    assert.equal(await said(), `load-${region}, group load, released; 0 dependencies, 1 dependent`);
    await page.keyboard.press('ArrowDown');
    const below = /^load-(\w+), group load/.exec(await said());
    assert.ok(below && below[1] !== region, await said());
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#details h2').innerText(), `load-${below[1]}`);
    assert.equal(await page.locator('#graph-canvas').getAttribute('tabindex'), '0');
    await page.close();
  });

  it('keeps labels legible at Fit: at least 10 px on screen, and at least 4.5:1 against their fill in light and dark themes', async () => {
    const page = await open(etl.html);
    for (const theme of ['dark', 'light']) {
      if (theme === 'light') {
        // a light theme's chart colours, as VS Code's Light+ sets them
        await page.evaluate(() => {
          const root = document.documentElement.style;
          for (const [k, v] of Object.entries({ '--vscode-charts-green': '#388a34', '--vscode-charts-purple': '#652d90', '--vscode-charts-blue': '#1a85ff', '--vscode-charts-yellow': '#bf8803', '--vscode-charts-red': '#e51400', '--vscode-disabledForeground': '#616161' })) root.setProperty(k, v);
        });
      }
      await page.click('#fit');
      for (const colorBy of ['state', 'group', 'order']) {
        await page.selectOption('#color-by', colorBy);
        const seen = await page.evaluate(() => {
          const p = (window as unknown as { skeinPanel: { graph: { scale: number; labelColors: Map<string, { ratio: number }> } } }).skeinPanel;
          return { px: 12 * p.graph.scale, ratios: [...p.graph.labelColors.values()].map((c) => c.ratio) };
        });
        assert.ok(seen.px >= 10, `${theme}: labels at ${seen.px} px`);
        assert.ok(seen.ratios.length > 0);
        for (const r of seen.ratios) assert.ok(r >= 4.5, `${theme}, by ${colorBy}: contrast ${r.toFixed(2)}`);
      }
    }
    await page.selectOption('#color-by', 'state');
    await page.screenshot({ path: join(shots, 'graph-light.png') });
    await page.close();
  });

  it('follows a light system scheme outside VS Code, labels still at least 4.5:1', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 }, colorScheme: 'light' });
    await page.goto(`file://${etl.html}`);
    await page.waitForFunction(() => ((window as unknown as { skeinPanel?: { graph?: { graph: { nodes: unknown[] } } } }).skeinPanel?.graph?.graph.nodes.length ?? 0) > 0);
    const seen = await page.evaluate(() => ({
      background: getComputedStyle(document.body).backgroundColor,
      text: getComputedStyle(document.body).color,
      ratios: [...(window as unknown as { skeinPanel: { graph: { labelColors: Map<string, { ratio: number }> } } }).skeinPanel.graph.labelColors.values()].map((c) => c.ratio),
    }));
    assert.equal(seen.background, 'rgb(255, 255, 255)');
    assert.equal(seen.text, 'rgb(59, 59, 59)');
    for (const r of seen.ratios) assert.ok(r >= 4.5, `contrast ${r}`);
    await page.screenshot({ path: join(shots, 'graph-light-scheme.png') });
    await page.close();
  });

  it('lists every task as text on the Tasks tab, which find and screen readers reach; a key shows it in the graph', async () => {
    const page = await open(etl.html);
    await page.click('#tab-tasks');
    const rows = page.locator('#view-tasks tbody tr');
    assert.equal(await rows.count(), 22);
    assert.equal(await page.locator('#view-tasks caption').innerText(), '22 tasks, in run order');
    const cells = await page.locator('#view-tasks tr[data-key="clean-east"] td').allInnerTexts();
    assert.deepEqual(cells.slice(0, 4), ['clean-east', 'clean', 'released', 'clean']);
    assert.match(cells[4]!, /^[\d.]+ (ms|µs)$/);
    assert.match(cells[5]!, /^thread-\d+$/);
    // every key is text on the page now
    const text = await page.locator('#view-tasks').innerText();
    for (const key of etl.record.graph.keys) assert.ok(text.includes(key), key);
    await page.locator('#view-tasks tr[data-key="clean-east"] button.key').click();
    assert.equal(await page.locator('#tab-graph').getAttribute('class'), 'active');
    assert.equal(await page.locator('#details h2').innerText(), 'clean-east');
    await page.close();
  });

  it('offers a task\'s debug actions in its details when the host runs them (VS Code), and sends them', async () => {
    const page = await open(etl.html);
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    const at = await nodeCenter(page, { key: 'clean-east' });
    await page.mouse.click(box.x + at.x, box.y + at.y);
    // an exported file has no one to run them
    assert.equal(await page.locator('#details .actions button').count(), 0);
    await page.evaluate(() => {
      const w = window as unknown as { skeinPanel: { receive(m: unknown): void }; sent: unknown[] };
      w.sent = [];
      window.addEventListener('skein-message', (e) => w.sent.push((e as CustomEvent).detail));
      w.skeinPanel.receive({ kind: 'actions' });
    });
    await page.mouse.click(box.x + at.x, box.y + at.y);
    assert.deepEqual((await page.locator('#details .actions button').allInnerTexts()).map((t) => t.trim()), ['Toggle Breakpoint', 'Debug This Task']);
    for (const action of ['toggleBreakpoint', 'debugTask']) await page.locator(`#details .actions button.${action}`).click();
    const sent = await page.evaluate(() => (window as unknown as { sent: unknown[] }).sent);
    assert.deepEqual(
      sent,
      ['toggleBreakpoint', 'debugTask'].map((action) => ({ kind: 'taskAction', action, key: 'clean-east', graphFile: etl.record.run.graphFile })),
    );
    await page.close();
  });

  it("marks the tasks the debugger's function breakpoints match (key, group, glob), and names the task of a context menu for VS Code", async () => {
    const page = await open(etl.html);
    const marked = () => page.evaluate(() => [...(window as unknown as { skeinPanel: { graph: { breakpoints: Set<number> }; model: { record: { graph: { keys: string[] } } } } }).skeinPanel.graph.breakpoints].map((t) => (window as unknown as { skeinPanel: { model: { record: { graph: { keys: string[] } } } } }).skeinPanel.model.record.graph.keys[t]).sort());
    const send = (m: unknown) => page.evaluate((msg) => (window as unknown as { skeinPanel: { receive(m: unknown): void } }).skeinPanel.receive(msg), m);
    assert.deepEqual(await marked(), []);
    // what the debugger stops at: a key, a key group, a glob over keys
    await send({ kind: 'breakpoints', names: ['report', 'stats', 'units-n*'] });
    assert.deepEqual(await marked(), ['report', 'stats-east', 'stats-north', 'stats-south', 'stats-west', 'units-north'].filter((k) => etl.record.graph.keys.includes(k)));
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    const at = await nodeCenter(page, { key: 'clean-east' });
    // outside VS Code: the browser's own menu, nothing named
    await page.mouse.click(box.x + at.x, box.y + at.y, { button: 'right' });
    assert.equal(await page.locator('#graph-canvas').getAttribute('data-vscode-context'), null);
    await send({ kind: 'actions' });
    await page.mouse.click(box.x + at.x, box.y + at.y, { button: 'right' });
    const context = JSON.parse((await page.locator('#graph-canvas').getAttribute('data-vscode-context'))!) as Record<string, unknown>;
    assert.deepEqual({ ...context, file: typeof context.file, line: typeof context.line }, {
      webviewSection: 'task',
      preventDefaultContextMenuItems: true,
      key: 'clean-east',
      graphFile: etl.record.run.graphFile,
      file: 'string',
      line: 'number',
    });
    assert.equal(await page.locator('#details h2').innerText(), 'clean-east');
    await send({ kind: 'breakpoints', names: [] });
    assert.deepEqual(await marked(), []);
    await page.close();
  });

  it('closes the details pane: its close button, Escape, a click on empty canvas, Fit, another tab', async () => {
    const page = await open(etl.html);
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    const at = await nodeCenter(page);
    const details = page.locator('#details');
    const openDetails = async (): Promise<void> => {
      await page.mouse.click(box.x + at.x, box.y + at.y);
      await details.waitFor({ state: 'visible' });
    };
    const closes = async (how: () => Promise<void>, what: string): Promise<void> => {
      await openDetails();
      await how();
      assert.equal(await details.isHidden(), true, `${what} closes the details`);
    };
    await closes(() => details.locator('button.close').click(), 'its close button');
    await closes(() => page.keyboard.press('Escape'), 'Escape');
    await closes(() => page.mouse.click(box.x + 3, box.y + box.height - 3), 'a click on empty canvas');
    await closes(() => page.click('#fit'), 'Fit');
    await closes(() => page.click('#tab-workers'), 'another tab');
    await page.close();
  });

  it('draws canvas text in the page\'s font, not the canvas default, and repaints on a theme change without input', async () => {
    const page = await open(etl.html);
    const font = await page.evaluate(() => (document.getElementById('graph-canvas') as HTMLCanvasElement).getContext('2d')!.font);
    assert.notEqual(font, '10px sans-serif');
    assert.match(font, /^12px /);
    const released = async (): Promise<string> =>
      page.evaluate(() => {
        const p = (window as unknown as { skeinPanel: Panel }).skeinPanel;
        const canvas = document.getElementById('graph-canvas') as HTMLCanvasElement;
        const ratio = window.devicePixelRatio || 1;
        const n = p.graph.graph.nodes.find((x) => p.model.states[x.task] === 'released')!;
        const d = canvas.getContext('2d')!.getImageData(Math.round((p.graph.tx + (n.x + 3) * p.graph.scale) * ratio), Math.round((p.graph.ty + (n.y + 3) * p.graph.scale) * ratio), 1, 1).data;
        return `${d[0]},${d[1]},${d[2]}`;
      });
    assert.equal(await released(), '177,128,215');
    // what VS Code does on a theme change: new values for its CSS variables on the root element
    await page.evaluate(() => document.documentElement.style.setProperty('--vscode-charts-purple', 'rgb(200, 40, 40)'));
    await page.waitForTimeout(200);
    assert.equal(await released(), '200,40,40');
    await page.close();
  });

  it('has a lane per worker and a bar per task that ran', async () => {
    const page = await open(etl.html);
    await page.click('#tab-workers');
    // the bars are coloured by key group: so is the legend here
    const legendText = await page.locator('#legend').innerText();
    assert.match(legendText, /\bclean\b/);
    assert.doesNotMatch(legendText, /\bwaiting\b/);
    const s = await page.evaluate(() => {
      const p = (window as unknown as { skeinPanel: Panel }).skeinPanel;
      return { lanes: p.stream.lanes, bars: p.stream.bars.length };
    });
    assert.equal(s.lanes, etl.record.workers.length);
    // two threads; under load the second may start after the 22 short tasks are done (then one lane)
    assert.ok(s.lanes >= 1 && s.lanes <= 2, String(s.lanes));
    assert.equal(s.bars, etl.record.tasks.started.filter((x) => x !== null).length);
    assert.equal(s.bars, 22);
    await page.screenshot({ path: join(shots, 'workers.png') });
    await page.close();
  });

  it("shows the same overhead figures as skein report", async () => {
    const page = await open(etl.html);
    await page.click('#tab-overhead');
    const rows = await page.locator('#overhead-table tr[data-group]').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).slice(0, 6).map((td) => td.textContent)));
    const report = skein(['report', etl.file]);
    for (const row of rows) {
      const line = report.split('\n').find((l) => l.startsWith(`${row[0]!.padEnd(20)} `));
      assert.ok(line, `skein report has a row for ${row[0]}`);
      assert.deepEqual(line!.trim().split(/\s{2,}|\s(?=\d)/).filter(Boolean).join(' ').replace(/\s+/g, ' '), row.join(' '));
    }
    assert.equal(rows.length, 7);
    // totals are sums over tasks that ran side by side: said so, beside the run's length
    assert.match(await page.locator('#view-overhead p').first().innerText(), /^22 tasks in [\d.]+ ms with the threads scheduler; summed over tasks: run [\d.]+ (µs|ms), overhead [\d.]+ (µs|ms)$/);
    assert.deepEqual(await page.locator('#overhead-table th').allInnerTexts(), ['group', 'tasks', 'run, summed', 'run median', 'overhead, summed', 'overhead median', 'compute vs overhead']);
    await page.screenshot({ path: join(shots, 'overhead.png') });
    await page.close();
  });

  it("shows a worker's start-up as the worker's: a dashed span on its lane, a line in the overhead view as in skein report", async () => {
    // the recording with its first worker still starting for 40 ms of the run, its second up before
    const rec = JSON.parse(JSON.stringify(etl.record)) as RunRecord & { workers: Array<{ name: string; kind: 'thread'; startup?: readonly [number, number] }> };
    // a second thread that ran nothing (on a busy machine the first can take all 22 tasks)
    if (rec.workers.length < 2) rec.workers.push({ name: 'thread-2', kind: 'thread' });
    rec.workers[0]!.startup = [rec.run.startedAt - 200, rec.run.startedAt + 40];
    rec.workers[1]!.startup = [rec.run.startedAt - 500, rec.run.startedAt - 100]; // up before the run: not shown
    const file = join(dir, 'startup.skein.json');
    writeFileSync(file, JSON.stringify(rec));
    const html = join(dir, 'startup.html');
    skein(['visualize', file, '-o', html]);
    const page = await open(html);
    const startups = await page.evaluate(() => (window as unknown as { skeinPanel: { stream: { startups: unknown[] } } }).skeinPanel.stream.startups);
    assert.deepEqual(startups, [[0, 40], undefined]);
    await page.click('#tab-workers');
    await page.screenshot({ path: join(shots, 'workers-startup.png') });
    await page.click('#tab-overhead');
    const line = await page.locator('#worker-startup').innerText();
    assert.equal(line, `worker start-up (the workers', not counted in task overhead): ${rec.workers[0]!.name} 240 ms`);
    assert.ok(skein(['report', file]).split('\n').includes(line));
    await page.close();
  });

  it('opens a large graph collapsed by key group, and expands a group on click', async () => {
    const file = join(dir, 'wide.graph.mjs');
    writeFileSync(file, "export const inc = (x) => x + 1;\nexport const sum = (...xs) => xs.reduce((a, b) => a + b, 0);\nconst g = {};\nfor (let i = 0; i < 400; i++) g['load-' + i] = [inc, i];\nfor (let i = 0; i < 400; i++) g['clean-' + i] = [inc, 'load-' + i];\ng.total = [sum, ...Array.from({ length: 400 }, (_, i) => 'clean-' + i)];\nexport default g;\n");
    const wide = recordAndExport(file, 'wide', 'sync');
    const page = await open(wide.html);
    const nodes = (): Promise<number> => page.evaluate(() => (window as unknown as { skeinPanel: Panel }).skeinPanel.graph.graph.nodes.length);
    assert.equal(await nodes(), 3); // load ×400, clean ×400, total
    assert.equal(await page.locator('#collapse-note').innerText(), '801 tasks: groups start collapsed; click a group to expand it');
    const at = await nodeCenter(page, { group: 'clean' });
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    await page.mouse.click(box.x + at.x, box.y + at.y);
    await page.waitForFunction(() => (window as unknown as { skeinPanel: Panel }).skeinPanel.graph.graph.nodes.length > 3);
    assert.equal(await nodes(), 402); // load ×400 collapsed, 400 clean tasks, total
    await page.screenshot({ path: join(shots, 'collapsed-expanded.png') });
    await page.close();
  });

  it('draws a graph file before it runs: every task waiting', async () => {
    const html = join(dir, 'static.html');
    skein(['visualize', 'examples/etl.graph.ts', '-o', html]);
    const page = await open(html);
    const states = await page.evaluate(() => [...new Set((window as unknown as { skeinPanel: Panel }).skeinPanel.model.states)]);
    assert.deepEqual(states, ['waiting']);
    await page.close();
  });
});
