// Builds every bundle with esbuild, and the runtime's type declarations with tsc.
//   dist/runtime/*.js   the runtime library, CLI, loader hooks and worker entries (ESM, one
//                       shared set of chunks so the CLI and graph files share one runtime)
//   dist/extension.cjs  the VS Code extension (CommonJS, as VS Code 1.96 loads it)
//   dist/types/         .d.ts files for `import ... from 'skein'`
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const quick = process.argv.includes('--no-types');

rmSync('dist/runtime', { recursive: true, force: true });
const runtimeEntries = {
  index: 'runtime/index.ts',
  core: 'runtime/core/index.ts',
  cli: 'runtime/cli.ts',
  loaderHooks: 'runtime/loader/hooks.ts',
  threadWorker: 'runtime/workers/threadWorker.ts',
  processWorker: 'runtime/workers/processWorker.ts',
};

await build({
  entryPoints: runtimeEntries,
  outdir: 'dist/runtime',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

if (existsSync('extension/extension.ts')) {
  await build({
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vscode'],
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (!quick) {
  rmSync('dist/types', { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
