// `npm test`: installs what the tests need (idempotently), builds, type-checks, runs every test.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function step(title, command, args, options = {}) {
  process.stderr.write(`\n== ${title}\n`);
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    process.stderr.write(`${title} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
step('build', process.execPath, ['scripts/build.mjs']);
// Debian's packages the tests use (nats-server, chromium), and for a whole run code-server: each installed once, if missing
step('install test dependencies', process.execPath, ['scripts/setup-tests.mjs', ...(only.length > 0 ? ['--debian'] : [])]);
if (only.length === 0) {
  step('typecheck', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
  step('typecheck the webview (DOM, no Node)', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'webview/tsconfig.json', '--noEmit']);
  // a real VS Code: code-server driven by headless Chromium
  step('tests inside the VS Code extension host', process.execPath, ['test/vscode/run.mjs']);
  step('UI test of the packaged extension (command palette, Output panel, screenshot)', process.execPath, ['test/vscode/ui.mjs']);
}
const files = only.length > 0 ? only : [...testFiles('test/runtime'), ...testFiles('test/extension'), ...testFiles('test/debug'), ...testFiles('test/lsp'), ...testFiles('test/webview'), ...testFiles('test/docs'), ...testFiles('test/package')];
step('tests', process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files]);
