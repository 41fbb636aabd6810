// UI test of the packaged extension: installs skein.vsix into a fresh code-server, opens the
// example graph file, runs "Skein: Run with Threads" from the command palette, reads the result
// from the Output panel, and saves a screenshot (test/vscode/screenshots/run-with-threads.png).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, makeWorkspace, root, startCodeServer } from './harness.mjs';

function packageVsix() {
  const out = join(root, 'dist-test', 'skein.vsix');
  mkdirSync(join(root, 'dist-test'), { recursive: true });
  const r = spawnSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--allow-missing-repository', '--no-rewrite-relative-links', '--target', 'linux-x64', '--out', out], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vsce package failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/** Right-clicks in the editor, checks the context menu has `entries`, closes it. */
async function contextMenu(page, entries) {
  // on a line of text: an editor scrolled to its end (a view state restored from an earlier
  // session) has only a line or two, and a click below them lands outside the editor's lines
  await page.locator('.monaco-editor .view-lines .view-line').first().click({ button: 'right', position: { x: 40, y: 5 } });
  const menu = page.locator('.context-view .monaco-menu, .monaco-menu-container .monaco-menu').first();
  await menu.waitFor({ state: 'visible', timeout: 10_000 });
  const labels = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim());
  for (const entry of entries) if (!labels.includes(entry)) throw new Error(`the editor's context menu has no ${JSON.stringify(entry)}: ${labels.join(' | ')}`);
  await page.keyboard.press('Escape');
}

/** Opens `name` through Quick Open and waits until its text shows. */
async function openFile(page, name, text) {
  await page.keyboard.press('Control+P');
  const quick = page.locator('.quick-input-widget input.input');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'attached' });
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: text }).first().waitFor({ timeout: 30_000 });
}

/**
 * Restricted Mode: the runs view says why nothing runs and links to Manage Workspace Trust, and
 * the editor's context menu offers the explanation instead of the run entries.
 */
async function restricted(vsix, browser, shots) {
  const workspace = makeWorkspace();
  const server = await startCodeServer(workspace, { install: vsix, trusted: false });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await openFile(page, 'etl.graph.ts', 'An ETL graph');
    await page.keyboard.press('Control+Shift+E');
    const header = page.locator('.pane-header', { hasText: 'Skein Runs' }).first();
    await header.waitFor({ timeout: 30_000 });
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const welcome = page.locator('.welcome-view-content', { hasText: 'Restricted Mode' }).first();
    await welcome.waitFor({ timeout: 30_000 });
    const text = (await welcome.innerText()).replace(/\s+/g, ' ');
    if (!text.includes('Skein runs and debugs the code in your graph files, so it is off in Restricted Mode')) throw new Error(`the runs view says: ${text}`);
    if (!text.includes('Manage Workspace Trust')) throw new Error(`the runs view has no Manage Workspace Trust link: ${text}`);
    await contextMenu(page, ['Run or Debug (trust this workspace first)']);
    await page.screenshot({ path: join(shots, 'restricted-mode.png') });
    process.stdout.write('ui: Restricted Mode explains itself in the runs view and the editor menu\n');
  } catch (error) {
    await page.screenshot({ path: join(shots, 'failure-restricted.png') }).catch(() => {});
    throw error;
  } finally {
    await page.close().catch(() => {});
    server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** Clicks a button of the debug toolbar (focus may be anywhere: a key press could go to the panel). */
async function toolbar(page, icon) {
  await page.locator(`.debug-toolbar .action-label.codicon-${icon}`).first().click();
}

/** Where screenshots the guide shows go: docs/images with UPDATE_SCREENSHOTS=1, else beside the others. */
const docShots = (shots) => (process.env.UPDATE_SCREENSHOTS ? join(root, 'docs/images') : shots);

/** The Call Stack's paused label (the session's or the thread's), as VS Code shows it. */
async function pausedLabel(page) {
  // one session with one thread: VS Code shows its state in the Call Stack's header; else on the thread's row
  return page.evaluate(() => {
    const header = [...document.querySelectorAll('.pane-header')].find((h) => /call stack/i.test(h.textContent ?? ''));
    const inHeader = header ? [...header.querySelectorAll('*')].find((e) => e.children.length === 0 && /^(Paused|Task )/.test(e.textContent?.trim() ?? '')) : undefined;
    const onRow = document.querySelector('.debug-call-stack .state.label');
    return (inHeader ?? onRow)?.textContent?.trim() ?? '';
  });
}

/** Waits until the Call Stack's paused label matches `pattern`; returns it. */
async function pausedAs(page, pattern) {
  const end = Date.now() + 30_000;
  let last = '';
  while (Date.now() < end) {
    last = await pausedLabel(page).catch(() => '');
    if (pattern.test(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`the Call Stack says ${JSON.stringify(last)}, not ${pattern}`);
}

/** The graph panel's frame (the one with the app's test handle). */
async function panelFrame(page) {
  for (let i = 0; i < 100; i++) {
    for (const f of page.frames()) if (await f.evaluate(() => 'skeinPanel' in window).catch(() => false)) return f;
    await page.waitForTimeout(100);
  }
  throw new Error('no graph panel');
}

/** Opens VS Code's context menu on a task's node in the panel and picks `entry`; returns the menu's entries. */
async function nodeMenu(page, frame, key, entry) {
  // brought into view first (the panel is narrow), then right-clicked at its centre
  const at = await frame.evaluate(async (k) => {
    const p = window.skeinPanel;
    await p.select(k);
    const n = p.graph.graph.nodes.find((x) => x.task >= 0 && p.model.record.graph.keys[x.task] === k);
    return { x: p.graph.tx + (n.x + n.width / 2) * p.graph.scale, y: p.graph.ty + (n.y + n.height / 2) * p.graph.scale };
  }, key);
  // its details pane would cover it in a narrow panel: closed, as a person would
  if (await frame.locator('#details').isVisible()) await frame.locator('#details button.close').click();
  await frame.locator('#graph-canvas').click({ button: 'right', position: at });
  const menu = page.locator('.context-view .monaco-menu, .monaco-menu-container .monaco-menu').first();
  await menu.waitFor({ state: 'visible', timeout: 10_000 });
  const labels = (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter((t) => t !== '');
  const item = menu.locator('.action-menu-item', { hasText: entry }).first();
  await item.hover();
  await item.click();
  await menu.waitFor({ state: 'hidden', timeout: 10_000 });
  return labels;
}

/**
 * From the graph panel of a paused session: a task's context menu (VS Code's own) offers Run to
 * Here, Toggle Breakpoint, Debug This Task and Reveal in Editor; a breakpoint toggled there is
 * drawn on its node, Run to Here pauses before its task, and continuing stops at the breakpoint.
 */
async function fromThePanel(page, shots) {
  const frame = await panelFrame(page);
  const labels = await nodeMenu(page, frame, 'report', 'Toggle Breakpoint');
  for (const entry of ['Run to Here', 'Toggle Breakpoint', 'Debug This Task', 'Reveal in Editor']) if (!labels.includes(entry)) throw new Error(`a task's menu in the panel has no ${entry}: ${labels.join(' | ')}`);
  for (let i = 0; i < 100 && (await frame.evaluate(() => window.skeinPanel.graph.breakpoints.size)) !== 1; i++) await page.waitForTimeout(100);
  if ((await frame.evaluate(() => window.skeinPanel.graph.breakpoints.size)) !== 1) throw new Error('the breakpoint toggled on report is not drawn on its node');
  await nodeMenu(page, frame, 'stats-north', 'Run to Here');
  await pausedAs(page, /^Paused before task "stats-north"$/);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(shots, 'debug-panel.png') });
  await toolbar(page, 'debug-continue');
  await pausedAs(page, /^Paused before task "report"$/);
}

/**
 * The language server in the editor: a cycle marked on its keys with the lenses above the export
 * (screenshot), and a hover on a key (screenshot); both for the guide (docs/editor.md).
 */
async function editor(page, shots) {
  await openFile(page, 'cycle.graph.ts', 'wait for each other');
  const squiggle = page.locator('.monaco-editor .squiggly-error').first();
  await squiggle.waitFor({ state: 'attached', timeout: 60_000 });
  const lens = page.locator('.monaco-editor .codelens-decoration', { hasText: 'Run with Threads' }).first();
  await lens.waitFor({ timeout: 30_000 });
  const lensText = (await lens.innerText()).replace(/\s+/g, ' ');
  for (const title of ['Run with Threads', 'Run with Processes', 'Debug', 'Show Graph']) if (!lensText.includes(title)) throw new Error(`the lenses say ${lensText}`);
  // the problem's text, as the Problems view lists it
  await page.keyboard.press('Control+Shift+M');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'Cycle: report → summary → report' }).first();
  await problem.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, 'editor-cycle.png') });
  // a hover on a key: its group, function, dependencies and dependents
  // the cursor on the key (a click), then Show Hover from the keyboard
  await page.locator('.monaco-editor .view-line', { hasText: "report: [total" }).first().locator('span', { hasText: /^report$/ }).first().click();
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  const hover = page.locator('.monaco-hover-content', { hasText: 'depends on' }).first();
  await hover.waitFor({ timeout: 30_000 });
  const hoverText = (await hover.innerText()).replace(/\s+/g, ' ');
  if (!hoverText.includes('depends on: prices, summary') || !hoverText.includes('dependents: summary')) throw new Error(`the hover says ${hoverText}`);
  await page.screenshot({ path: join(shots, 'editor-hover.png') });
  await page.keyboard.press('Escape');
  process.stdout.write('ui: the language server marks a cycle, offers its lenses and hovers a key\n');
}

/**
 * Debugging as a newcomer does: a failed run offers Debug Failed Task (screenshot); F5 on a graph
 * file pauses at the first task, and each step renames the Call Stack's label to the task now
 * paused; the failed run's status bar item goes when the session starts; Debug Task… brings the
 * Run and Debug view (its Variables) into sight.
 */
async function debugging(page, palette, shots) {
  await openFile(page, 'failing.graph.ts', 'parse-b');
  let input = await palette('>Skein: Run with Threads');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Skein: Run with Threads' }).first().waitFor({ state: 'attached' });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await page.locator('.statusbar-item', { hasText: 'Skein failed' }).first().waitFor({ timeout: 60_000 });
  const offer = page.locator('.notifications-toasts .notification-toast', { hasText: 'parse-b' }).first();
  await offer.waitFor({ timeout: 30_000 });
  const debugIt = offer.locator('.monaco-button', { hasText: 'Debug Failed Task' }).first();
  await debugIt.waitFor();
  await page.screenshot({ path: join(docShots(shots), 'debug-failed-task-offer.png') });
  // the offer taken: paused at the failed task's throwing line, its error and its inputs in sight
  await debugIt.click();
  await pausedAs(page, /^Task "parse-b" failed: cannot parse b:1,2,3$/);
  if ((await page.locator('.statusbar-item', { hasText: 'Skein failed' }).count()) !== 0) throw new Error('the failed run\'s status stays through the debug session');
  await page.locator('.pane-header', { hasText: 'Variables' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(docShots(shots), 'debug-failed-task.png') });
  await toolbar(page, 'debug-stop');
  for (let i = 0; i < 300 && (await pausedLabel(page)) !== ''; i++) await page.waitForTimeout(100);
  // F5 on a graph file without a launch.json: paused before the first task
  await page.locator('.tabs-container .tab', { hasText: 'etl.graph.ts' }).first().click();
  await page.locator('.monaco-editor .view-lines', { hasText: 'graph' }).first().click();
  await page.keyboard.press('F5');
  // without a launch.json VS Code asks which debugger; Skein's is the suggested one for a graph file
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Skein Task Graph' }).first();
  await pick.waitFor({ timeout: 30_000 });
  await pick.click();
  const first = await pausedAs(page, /^Paused before the first task, "[^"]+"$/);
  const seen = [first];
  for (let i = 0; i < 2; i++) {
    await toolbar(page, 'debug-step-over');
    const label = await pausedAs(page, /^Paused before task "[^"]+"$/);
    // a new label each step, naming the task paused now
    const end = Date.now() + 30_000;
    let now = label;
    while (seen.includes(now) && Date.now() < end) {
      await page.waitForTimeout(100);
      now = await pausedLabel(page);
    }
    if (seen.includes(now)) throw new Error(`after a step the Call Stack still says ${JSON.stringify(now)}`);
    seen.push(now);
  }
  await fromThePanel(page, docShots(shots));
  await toolbar(page, 'debug-stop');
  for (let i = 0; i < 300 && (await pausedLabel(page)) !== ''; i++) await page.waitForTimeout(100);
  // Debug Task… from the Explorer: the Run and Debug view comes into sight, paused before the key
  await page.keyboard.press('Control+Shift+E');
  await page.locator('.tabs-container .tab', { hasText: 'etl.graph.ts' }).first().click();
  input = await palette('>Skein: Debug Task…');
  const command = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Skein: Debug Task…' }).first();
  await command.waitFor({ state: 'visible' });
  await command.click();
  // the keys of the graph, to pick from
  await page.locator('.quick-input-widget', { hasText: 'Debug a task of etl.graph.ts' }).first().waitFor({ timeout: 60_000 });
  await input.fill('clean-north');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'clean-north' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
  await pausedAs(page, /^Paused before task "clean-north"$/);
  await page.locator('.pane-header', { hasText: 'Variables' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await toolbar(page, 'debug-stop');
  process.stdout.write(`ui: debugging as a newcomer: ${seen.join(' → ')}; Debug Task showed the Variables\n`);
}

/**
 * Every runtime .js of the installed extension that names a source map has it beside it: Step
 * Into loads them, and a missing one floods the Debug Console with `Could not read source map`.
 */
function sourceMapsShipped(extensionsDir) {
  const installed = readdirSync(extensionsDir).find((d) => d.startsWith('skein.skein-'));
  if (installed === undefined) throw new Error(`the extension is not installed in ${extensionsDir}`);
  const runtime = join(extensionsDir, installed, 'dist', 'runtime');
  const missing = [];
  let named = 0;
  for (const file of readdirSync(runtime).filter((f) => f.endsWith('.js'))) {
    const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(runtime, file), 'utf8'))?.[1];
    if (map === undefined || map.startsWith('data:')) continue;
    named++;
    if (!existsSync(join(runtime, map))) missing.push(`${file} → ${map}`);
  }
  if (missing.length > 0) throw new Error(`the .vsix names source maps it does not ship:\n${missing.join('\n')}`);
  process.stdout.write(`ui: the .vsix ships the ${named} source maps its runtime names\n`);
}

async function main() {
  const vsix = packageVsix();
  const workspace = makeWorkspace();
  const server = await startCodeServer(workspace, { install: vsix });
  const browser = await launchBrowser();
  // committed screenshots change only on purpose: UPDATE_SCREENSHOTS=1 npm test
  const shots = process.env.UPDATE_SCREENSHOTS ? join(root, 'test/vscode/screenshots') : join(root, 'dist-test/screenshots');
  mkdirSync(shots, { recursive: true });
  let page;
  try {
    sourceMapsShipped(server.extensionsDir);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // F1 can be lost while the workbench moves focus (a debug session ending, a view opening):
    // pressed again until the palette shows, up to three times
    const palette = async (text) => {
      const input = page.locator('.quick-input-widget input.input');
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('F1');
        try {
          await input.waitFor({ state: 'visible', timeout: attempt < 3 ? 5_000 : 30_000 });
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          process.stdout.write(`ui: F1 did not open the command palette (attempt ${attempt}); pressing it again\n`);
        }
      }
      await input.fill(text);
      return input;
    };
    // open the example through Quick Open, so it is the active editor
    await page.keyboard.press('Control+P');
    const quick = page.locator('.quick-input-widget input.input');
    await quick.waitFor({ state: 'visible' });
    await quick.fill('etl.graph.ts');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'etl.graph.ts' }).first().waitFor({ state: 'attached' });
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-lines', { hasText: 'An ETL graph' }).first().waitFor({ timeout: 30_000 });

    const input = await palette('>Skein: Run with Threads');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Skein: Run with Threads' }).first().waitFor({ state: 'attached' });
    await page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });

    const output = page.locator('.part.panel .monaco-editor .view-lines');
    await output.filter({ hasText: /22\s+tasks\s+in/ }).first().waitFor({ timeout: 60_000 });
    const text = (await output.first().innerText()).replace(/\u00a0/g, ' ');
    for (const expected of ["best: 'south'", 'total: 947561.24', '22 tasks in', 'threads scheduler · 2 workers']) {
      if (!text.includes(expected)) throw new Error(`the Output panel does not show ${JSON.stringify(expected)}:\n${text}`);
    }
    const status = await page.locator('.statusbar-item', { hasText: 'Skein 22 tasks' }).first().innerText();
    // the editor's own context menu offers the run and debug entries on a graph file
    await contextMenu(page, ['Run with Threads', 'Debug Task…']);
    // the graph panel opened beside the editor (skein.openPanelOnRun) and shows the finished run
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await panel.locator('#summary', { hasText: '22 done' }).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, 'run-with-threads.png') });
    process.stdout.write(`ui: Run with Threads from the palette printed the results; status bar: ${status.trim()}\n`);
    await debugging(page, palette, shots);
    await editor(page, docShots(shots));
    await restricted(vsix, browser, shots);
    process.stdout.write('4 passed, 0 failed\n');
    return 0;
  } catch (error) {
    if (page) await page.screenshot({ path: join(shots, 'failure.png') }).catch(() => {});
    process.stderr.write(`ui test failed: ${error.stack ?? error}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    return 1;
  } finally {
    await browser.close().catch(() => {});
    server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

process.exitCode = await main();
