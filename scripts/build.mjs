// Builds every bundle with esbuild, and the runtime's type declarations with tsc.
//   dist/runtime/*.js   the runtime library, CLI, loader hooks and worker entries (ESM, one
//                       shared set of chunks so the CLI and graph files share one runtime)
//   dist/extension.cjs  the VS Code extension (CommonJS, as VS Code 1.96 loads it)
//   dist/types/         .d.ts files for `import ... from 'skein'`
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const quick = process.argv.includes('--no-types');

rmSync('dist/runtime', { recursive: true, force: true });
const runtimeEntries = {
  index: 'runtime/index.ts',
  core: 'runtime/core/index.ts',
  cli: 'runtime/cli.ts',
  prewarm: 'runtime/cli/prewarm.ts',
  loaderHooks: 'runtime/loader/hooks.ts',
  threadWorker: 'runtime/workers/threadWorker.ts',
  processWorker: 'runtime/workers/processWorker.ts',
  runner: 'runtime/runner/main.ts',
  distributed: 'runtime/distributed/index.ts',
  bag: 'runtime/bag/index.ts',
  bagOps: 'runtime/bag/ops.ts',
  array: 'runtime/array/index.ts',
  arrayOps: 'runtime/array/ops.ts',
  dataframe: 'runtime/dataframe/index.ts',
  dataframeOps: 'runtime/dataframe/ops.ts',
  nanny: 'runtime/distributed/nanny.ts',
  distributedWorker: 'runtime/distributed/workerMain.ts',
  lspEvaluate: 'runtime/lsp/evaluate.ts',
  lspEvaluator: 'runtime/lsp/evaluator.ts',
};

// The analysis of graph files' source (runtime/lsp/analysis.ts, TypeScript's parser bundled in,
// minified) is one file, dist/runtime/graphSource.js, that the language server and the debugger
// (line breakpoints on the lines that define tasks) both import: they resolve keys to source
// alike, and TypeScript is shipped once. Other bundles import it, and the evaluation entry, by path.
const SHARED = { 'runtime/lsp/analysis': 'graphSource.js', 'runtime/lsp/evaluate': 'lspEvaluate.js' };
const sharedModules = (prefix) => ({
  name: 'skein-shared-modules',
  setup(b) {
    b.onResolve({ filter: /(analysis|evaluate)\.js$/ }, (args) => {
      const module = relative(root, resolve(args.resolveDir, args.path)).replace(/\\/g, '/').replace(/\.js$/, '');
      const name = SHARED[module];
      if (name === undefined || args.importer.endsWith(`${module}.ts`)) return undefined;
      return { path: `${prefix}${name}`, external: true };
    });
  },
});

// piscina's thread entry loads the task file with require() first and import() when that fails.
// On Node 20.19+ require() loads an ES module too, and a worker terminated while doing so (a pool
// closed while its threads start) aborts the whole process in V8 ("Module::IsGraphAsync must be
// used on an instantiated module"). Its require() is given only builtins and piscina's optional
// addon, so Skein's worker file always goes through import().
const WORKER_REQUIRE = "const require = Object.assign((id) => { if (id.startsWith('node:') || id.startsWith('@napi-rs/')) return __skeinCreateRequire(import.meta.url)(id); throw Object.assign(new Error(`load ${id} with import()`), { code: 'ERR_REQUIRE_ESM' }); }, { resolve: __skeinCreateRequire(import.meta.url).resolve });";

// CommonJS entries (`require('skein')`): the runtime is an ES module, which Node 20.19 and later
// load from require(); on an older Node the error says how to load it instead.
const COMMONJS_ENTRY = (target) => `// CommonJS entry: Skein is an ES module; Node.js 20.19 and later load it with require().
try {
  module.exports = require('./${target}');
} catch (error) {
  if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(\`skein is an ES module, and this Node.js (\${process.version}) cannot load it with require(). Use \\\`const { get } = await import('skein')\\\`, write your program as an ES module (import { get } from 'skein'), or use Node.js 20.19 or later.\`, { cause: error });
  }
  throw error;
}
`;

// Dependencies are bundled (the .vsix ships no node_modules) except esbuild, whose native
// binary cannot be: it stays a package the runtime imports. Bundled CommonJS code (piscina,
// commander, yaml, cli-progress) gets `require` and `__dirname` from this banner; piscina finds
// its thread entry as `__dirname/worker.js`, so that file is built next to the chunks.
const BANNER = [
  "import { createRequire as __skeinCreateRequire } from 'node:module';",
  "import { fileURLToPath as __skeinFileURLToPath } from 'node:url';",
  'const require = __skeinCreateRequire(import.meta.url);',
  'const __filename = __skeinFileURLToPath(import.meta.url);',
  "const __dirname = __skeinFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

await build({
  entryPoints: { ...runtimeEntries, worker: 'node_modules/piscina/dist/worker.js' },
  outdir: 'dist/runtime',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // nice: piscina's optional thread-priority addon; bufferutil, utf-8-validate: ws's optional speed-ups; each loaded only when present, and caught;
  // @kubernetes/client-node: KubeCluster's, an optional peer the user installs (72 MB no one else needs)
  external: ['esbuild', '@napi-rs/nice', 'bufferutil', 'utf-8-validate', '@kubernetes/client-node', 'nodejs-polars'],
  banner: { js: BANNER },
  sourcemap: true,
  logLevel: 'warning',
  plugins: [sharedModules('./')],
});
// the parser that tells whether a function closes over anything (loader/lambda.ts), as CommonJS:
// tokenize needs it synchronously, and the .vsix ships no node_modules to require it from
await build({
  entryPoints: { acornGlobals: 'node_modules/acorn-globals/index.js' },
  outdir: 'dist/runtime',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});
await build({
  entryPoints: { graphSource: 'runtime/lsp/analysis.ts' },
  outdir: 'dist/runtime',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: BANNER },
  minify: true,
  logLevel: 'warning',
});

{
  const worker = readFileSync('dist/runtime/worker.js', 'utf8');
  const plain = 'const require = __skeinCreateRequire(import.meta.url);';
  if (!worker.includes(plain)) throw new Error('build: the piscina worker bundle changed shape; check WORKER_REQUIRE');
  // piscina loads the task file with esbuild's `__require`, which a shared chunk may define with
  // its own plain `require`: that one call gets the guarded one by name
  const load = '__importStar(__require(s))';
  if (!worker.includes(load)) throw new Error('build: the piscina worker bundle changed shape; check how it loads the task file');
  writeFileSync('dist/runtime/worker.js', worker.replace(plain, WORKER_REQUIRE).replace(load, '__importStar(require(s))'));
}
writeFileSync('dist/runtime/index.cjs', COMMONJS_ENTRY('index.js'));
writeFileSync('dist/runtime/core.cjs', COMMONJS_ENTRY('core.js'));

if (existsSync('extension/extension.ts')) {
  await build({
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    sourcemap: true,
    logLevel: 'warning',
  });
}

// The language client, a bundle of its own loaded once a graph file is open (extension/languageClientStart.ts)
await build({
  entryPoints: ['extension/languageClient.ts'],
  outfile: 'dist/languageClient.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The stdio debug adapter: ESM like the rest of dist/ (the package is "type": "module"), with
// the same banner giving the bundled CommonJS code `require` and `__dirname`.
await build({
  entryPoints: ['extension/debug/debugAdapter.ts'],
  outfile: 'dist/debugAdapter.js',
  bundle: true,
  format: 'esm',
  banner: { js: BANNER },
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});

// The language server for graph files (stdio or IPC); the analysis and the evaluation are the
// runtime's files. V8 is told to favour memory over speed before anything else runs: a server
// that waits for edits most of the time (on a 5,000-task file, 160 MB resident became 115 MB and
// its diagnostics stayed well within a second).
await build({
  entryPoints: ['runtime/lsp/server.ts'],
  outfile: 'dist/languageServer.js',
  bundle: true,
  format: 'esm',
  banner: { js: `import { setFlagsFromString as __skeinV8Flags } from 'node:v8';\n__skeinV8Flags('--optimize-for-size');\n${BANNER}` },
  plugins: [sharedModules('./runtime/')],
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The graph panel: one browser bundle, its stylesheet, the layout worker and the icon font.
mkdirSync('dist/webview', { recursive: true });
await build({
  entryPoints: ['webview/main.ts'],
  outfile: 'dist/webview/panel.js',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome110',
  minify: true,
  logLevel: 'warning',
});
copyFileSync('webview/styles.css', 'dist/webview/panel.css');
copyFileSync('webview/page.html', 'dist/webview/page.html');
copyFileSync('node_modules/elkjs/lib/elk-worker.min.js', 'dist/webview/elk-worker.js');
copyFileSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css');
copyFileSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf');

if (!quick) {
  rmSync('dist/types', { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
