#!/usr/bin/env node
// The `skein` command. The CLI itself is built into dist/ by `npm run build` (run by `npm ci`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/runtime/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('skein: the runtime is not built yet; run `npm run build` in the Skein folder.\n');
  process.exit(2);
}
// `skein run`: worker threads or processes start while the CLI and the graph file load
if (process.argv[2] === 'run') await (await import(new URL('../dist/runtime/prewarm.js', import.meta.url).href)).prewarm(process.argv.slice(2));
await import(cli.href);
