// Entry point VS Code loads as `extensionTestsPath`: runs the mocha suite inside the real
// extension host and rejects when a test fails (the harness then exits non-zero).
import * as path from 'node:path';

export function run(): Promise<void> {
  // mocha is loaded from the project's node_modules at run time (not bundled)
  const { Mocha } = require('mocha') as { Mocha: typeof import('mocha') };
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'extension.test.cjs'));
  mocha.addFile(path.join(__dirname, 'debug.test.cjs'));
  return new Promise((resolve, reject) => {
    mocha.run((failures: number) => (failures > 0 ? reject(new Error(`${failures} in-VS Code test(s) failed`)) : resolve()));
  });
}
