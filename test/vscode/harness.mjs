// Starts a real VS Code (code-server 4.96.4, VS Code 1.96) on a temporary workspace and drives
// it with headless Debian Chromium through playwright-core. Used by run.mjs (the in-extension-
// host mocha suite) and ui.mjs (a palette-driven UI test with a screenshot).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A temporary workspace with the graph files the tests run. */
export function makeWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'skein-vscode-ws-'));
  cpSync(join(root, 'examples/etl.graph.ts'), join(dir, 'etl.graph.ts'));
  cpSync(join(root, 'test/data/failing.graph.ts'), join(dir, 'failing.graph.ts'));
  cpSync(join(root, 'test/data/slow.graph.ts'), join(dir, 'slow.graph.ts'));
  cpSync(join(root, 'test/vscode/workspace'), dir, { recursive: true });
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify({ 'skein.numWorkers': 2 }, null, 2));
  return dir;
}

/** Starts code-server; returns {url, stop}. The whole process group is killed on stop. */
export async function startCodeServer(workspace, options = {}) {
  const port = await freePort();
  const tmp = mkdtempSync(join(tmpdir(), 'skein-vscode-'));
  const userData = join(tmp, 'ud');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'workbench.colorTheme': 'Default Dark Modern',
      // an untrusted workspace opens in Restricted Mode without asking
      ...(options.trusted === false ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' } : {}),
    }),
  );
  writeFileSync(join(tmp, 'config.yaml'), 'auth: none\n');
  const bin = join(root, '.vscode-test/cs/node_modules/.bin/code-server');
  if (options.install) {
    // install the packaged extension the way a user does, before the server starts
    const r = spawnSync(bin, ['--user-data-dir', userData, '--extensions-dir', join(tmp, 'exts'), '--install-extension', options.install], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`code-server --install-extension failed:\n${r.stdout}${r.stderr}`);
  }
  const child = spawn(
    bin,
    [
      '--config', join(tmp, 'config.yaml'), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', ...(options.trusted === false ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override',
      '--user-data-dir', userData, '--extensions-dir', join(tmp, 'exts'), workspace,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) throw new Error(`code-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  return { url, authority: `127.0.0.1:${port}`, stop, log: () => log, extensionsDir: join(tmp, 'exts') };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The workbench URL that loads this folder's extension in development mode (plus tests). */
export function workbenchUrl(server, workspace, testsPath) {
  const payload = [['extensionDevelopmentPath', `vscode-remote://${server.authority}${root.replace(/\/$/, '')}`]];
  if (testsPath) payload.push(['extensionTestsPath', `vscode-remote://${server.authority}${testsPath}`]);
  return `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
