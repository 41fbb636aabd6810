// Every example in docs/*.md runs here, so the guides cannot drift from the code:
// - ```ts file=NAME   is written to NAME in a scratch folder (graph files, task modules);
// - ```ts runnable    runs as a script (TypeScript, `import ... from 'skein'`);
// - ```sh runnable    runs each `npx skein ...` line with this checkout's CLI;
// - ```text output    right after a runnable block is what it must print, exactly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Block {
  readonly lang: string;
  readonly info: string;
  readonly body: string;
  readonly line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, info: open[2]!.trim(), body: `${body.join('\n')}\n`, line: start + 1 });
  }
  return out;
}

for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
  const all = blocks(readFileSync(join(root, 'docs', doc), 'utf8'));
  const scratch = join(root, '.docs-run', doc.replace(/\.md$/, ''));
  describe(`docs/${doc}`, () => {
    before(() => {
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(scratch, { recursive: true });
      // files first: examples may import modules defined further down the page
      for (const b of all) {
        const file = /^file=(\S+)$/.exec(b.info);
        if (file) writeFileSync(join(scratch, file[1]!), b.body);
      }
    });
    after(() => rmSync(scratch, { recursive: true, force: true }));
    all.forEach((b, n) => {
      if (b.info !== 'runnable') return;
      const expected = all[n + 1]?.lang === 'text' && all[n + 1]!.info === 'output' ? all[n + 1]!.body : undefined;
      it(`example at line ${b.line} (${b.lang})${expected === undefined ? '' : ' prints what the guide shows'}`, () => {
        let stdout = '';
        if (b.lang === 'ts') {
          const file = join(scratch, `example-${b.line}.mts`);
          writeFileSync(file, b.body);
          const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
          assert.equal(r.status, 0, `the example failed:\n${r.stderr}`);
          stdout = r.stdout;
        } else if (b.lang === 'sh') {
          for (const command of b.body.split('\n').filter((l) => l.trim() !== '')) {
            const m = /^npx skein (.*)$/.exec(command);
            assert.ok(m, `only "npx skein ..." commands can run: ${command}`);
            const r = spawnSync(process.execPath, [join(root, 'bin/skein.js'), ...m[1]!.split(/\s+/)], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
            assert.equal(r.status, 0, `${command} failed:\n${r.stderr}`);
            stdout += r.stdout;
          }
        } else assert.fail(`a runnable block must be ts or sh, not ${b.lang}`);
        if (expected !== undefined) assert.equal(stdout, expected);
      });
    });
  });
}
