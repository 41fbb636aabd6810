// The package as a user gets it: `npm pack`, the tarball installed into a fresh app folder
// (from the tarball, dependencies from npm's local cache where it has them), then the README tour run there, `visualize`
// included, and the package loaded with import, require() and a script with top-level await.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PIPELINE = `export const load = (name: string) => Array.from({ length: 5 }, (_, i) => i * name.length);
export const clean = (rows: number[]) => rows.filter((x) => x > 2);
export const total = (...parts: number[][]) => parts.flat().reduce((a, b) => a + b, 0);

export default {
  'load-a': [load, 'a.csv'], 'load-b': [load, 'bb.csv'],
  'clean-a': [clean, 'load-a'], 'clean-b': [clean, 'load-b'],
  total: [total, 'clean-a', 'clean-b'],
};
`;

describe('the packed package, installed into a fresh app', () => {
  let dir = '';
  let app = '';
  const skein = (...args: string[]): ReturnType<typeof run> => run(process.execPath, [join(app, 'node_modules', 'skein', 'bin', 'skein.js'), ...args], app);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skein-pack-'));
    const packed = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = join(dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    app = join(dir, 'app');
    run('mkdir', ['-p', app], dir);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
    const installed = run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
    assert.equal(installed.code, 0, installed.stderr);
    writeFileSync(join(app, 'pipeline.graph.ts'), PIPELINE);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships the CLI, the runtime, its types and the panel, and nothing of the sources or tests', () => {
    const pkg = join(app, 'node_modules', 'skein');
    for (const file of ['bin/skein.js', 'dist/runtime/index.js', 'dist/runtime/index.cjs', 'dist/types/runtime/index.d.ts', 'dist/webview/panel.js', 'dist/webview/panel.css']) {
      assert.ok(existsSync(join(pkg, file)), `${file} is in the package`);
    }
    for (const file of ['runtime', 'test', 'extension', 'dist/extension.cjs']) assert.ok(!existsSync(join(pkg, file)), `${file} is not in the package`);
  });

  it('runs the README tour: three schedulers, a recording, a report and the panel as HTML', () => {
    for (const scheduler of ['sync', 'threads', 'processes']) {
      const r = skein('run', 'pipeline.graph.ts', '--scheduler', scheduler);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'total: 110\n');
      assert.match(r.stderr, new RegExp(`^5 tasks in [\\d.]+ ms, ${scheduler} scheduler, \\d+ workers?\\n$`));
    }
    const recorded = skein('run', 'pipeline.graph.ts', '--record', 'run.skein.json');
    assert.equal(recorded.code, 0, recorded.stderr);
    const report = skein('report', 'run.skein.json');
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^Skein run report: run\.skein\.json\n5 tasks in [\d.]+ ms with the threads scheduler/);
    const visualized = skein('visualize', 'run.skein.json', '-o', 'run.html');
    assert.equal(visualized.code, 0, visualized.stderr);
    assert.equal(visualized.stderr, 'wrote run.html (5 tasks)\n');
    assert.match(readFileSync(join(app, 'run.html'), 'utf8'), /<script nonce="[^"]+">/);
  });

  it('loads with import, with require(), and in a script with top-level await', () => {
    writeFileSync(join(app, 'tasks.mjs'), 'export const double = (x) => x * 2;\n');
    writeFileSync(join(app, 'main.mjs'), "import { compute, delayed } from 'skein';\nimport { double } from './tasks.mjs';\nconsole.log(await compute(delayed(double)(21)));\n");
    const esm = run(process.execPath, ['main.mjs'], app);
    assert.equal(esm.code, 0, esm.stderr);
    assert.equal(esm.stdout, '[ 42 ]\n');
    writeFileSync(join(app, 'main.cjs'), "const { get } = require('skein');\nget({ x: 1, y: [Math.max, 'x', 5] }, 'y', { scheduler: 'sync' }).then((v) => console.log(v));\n");
    const cjs = run(process.execPath, ['main.cjs'], app);
    assert.equal(cjs.code, 0, cjs.stderr);
    assert.equal(cjs.stdout, '5\n');
  });
});
