// Runs the in-extension-host mocha suite (test/vscode/suite) in a real VS Code: code-server
// here; `npm run test:electron` runs the same suite in VS Code desktop where it can be downloaded.
// Exit code 0 when every test passed.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { build } from 'esbuild';
import { launchBrowser, makeWorkspace, root, startCodeServer, workbenchUrl } from './harness.mjs';

export async function buildSuite() {
  const outdir = join(root, 'dist-test/vscode');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { index: 'test/vscode/suite/index.ts', 'extension.test': 'test/vscode/suite/extension.test.ts', 'debug.test': 'test/vscode/suite/debug.test.ts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    absWorkingDir: root,
    logLevel: 'warning',
  });
  return outdir;
}

async function main() {
  const outdir = await buildSuite();
  const workspace = makeWorkspace();
  const server = await startCodeServer(workspace);
  const browser = await launchBrowser();
  const timer = setTimeout(() => {
    process.stderr.write('in-VS Code tests timed out after 5 minutes\n');
    finish(1);
  }, 300_000);
  let finished = false;
  async function finish(code) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    await browser.close().catch(() => {});
    server.stop();
    rmSync(workspace, { recursive: true, force: true });
    process.exit(code);
  }
  try {
    // committed screenshots change only on purpose: UPDATE_SCREENSHOTS=1 npm test
    const shotDir = process.env.UPDATE_SCREENSHOTS ? join(root, 'docs/images') : join(root, 'dist-test/screenshots');
    mkdirSync(shotDir, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    let exit;
    const done = new Promise((resolve) => (exit = resolve));
    // the extension host's console: mocha's report comes as 'log'; the workbench's own noise
    // (gallery lookups that cannot reach the network) comes as errors and warnings
    // a test that logs `SKEIN_SCREENSHOT <name>` gets the workbench saved as docs/images/<name>.png
    await page.exposeFunction('codeAutomationLog', async (type, args) => {
      const text = format(...args);
      const shot = /^SKEIN_SCREENSHOT (\S+)$/.exec(text);
      if (shot) await page.screenshot({ path: join(shotDir, `${shot[1]}.png`) });
      else if (type === 'log' || type === 'info') process.stdout.write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => exit(code));
    await page.goto(workbenchUrl(server, workspace, join(outdir, 'index.cjs')));
    const code = await done;
    await finish(code === 0 ? 0 : 1);
  } catch (error) {
    process.stderr.write(`${error.stack ?? error}\n${server.log()}\n`);
    await finish(1);
  }
}

// run only when executed directly (electron.mjs imports buildSuite from here)
if (import.meta.url === `file://${process.argv[1]}`) await main();
