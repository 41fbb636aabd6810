// The same in-extension-host suite as run.mjs, in VS Code desktop through @vscode/test-electron,
// for machines that can download VS Code (this one cannot: npm test uses run.mjs and code-server).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { makeWorkspace, root } from './harness.mjs';
import { buildSuite } from './run.mjs';

const outdir = await buildSuite();
const workspace = makeWorkspace();
try {
  await runTests({
    version: '1.96.4',
    extensionDevelopmentPath: root,
    extensionTestsPath: join(outdir, 'index.cjs'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (error) {
  process.stderr.write(`in-VS Code tests failed: ${error}\n`);
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
