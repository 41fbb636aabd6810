// The language server's reading of graph files on its own: which keys a file defines and where,
// for the shapes graph files take.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeGraphSource } from '../../runtime/lsp/analysis.js';

describe('graph file analysis (no evaluation)', () => {
  it('reads `export default {…}` in TypeScript: keys with ranges inside their quotes, functions, dependencies', () => {
    const text = ["import { inc } from './ops.js';", 'export default {', "  x: 1,", "  'y-1': [inc, 'x'],", '} satisfies Record<string, unknown>;', ''].join('\n');
    const a = analyzeGraphSource(text, 'g.graph.ts');
    assert.deepEqual(
      a.tasks.map((t) => [t.key, t.group, t.range.start, t.head?.name ?? null, t.references.map((r) => [r.text, r.targets.map((d) => d.key)])]),
      [
        ['x', 'x', { line: 2, character: 2 }, null, []],
        ['y-1', 'y', { line: 3, character: 3 }, 'inc', [['x', ['x']]]],
      ],
    );
    assert.deepEqual(a.problems, []);
    assert.deepEqual(a.exportRange?.start, { line: 1, character: 0 });
  });

  it('reads keys assigned by name, and keeps a key made from anything but a loop over a list as a pattern the keys it makes match', () => {
    const text = ['const g = {};', 'for (let i = 0; i < 3; i++) g[`part-${i}`] = [sum, i];', "g.total = 0; g['all'] = [sum, 'part-1', 'part-9', 'parts-1'];", 'export default g;', 'function sum() {}'].join('\n');
    const a = analyzeGraphSource(text, 'g.graph.js');
    assert.deepEqual(a.tasks.map((t) => [t.key, t.pattern]), [['part-*', true], ['total', false], ['all', false]]);
    const all = a.tasks.find((t) => t.key === 'all')!;
    // part-1 and part-9 match the pattern (which values i takes is not read); parts-1 is a plain string
    assert.deepEqual(all.references.map((r) => [r.text, r.targets.map((d) => d.key)]), [['part-1', ['part-*']], ['part-9', ['part-*']], ['parts-1', []]]);
  });

  it('suggests at most three keys for a typo, the likeliest first: two letters swapped, then one changed, then one more or less', () => {
    const keys = ['step-250', 'step-2501', 'step-2509', 'step-2510', 'stpe-2500', 'step-2502'];
    const text = ['export default {', ...keys.map((k) => `  '${k}': 1,`), "  report: [Math.max, 'step-2500'],", '};'].join('\n');
    const [p] = analyzeGraphSource(text, 'g.graph.js').problems;
    assert.equal(p!.message, '"step-2500" is not a key, so the task gets it as a plain string; did you mean `stpe-2500` or `step-2501` or `step-2509`?');
    assert.equal(p!.fix!.newText, 'stpe-2500');
  });

  it('warns of functions the threads and processes schedulers cannot load, with the fix to export them', () => {
    const text = [
      "import { inc } from './ops.js';",
      'function hidden(x) { return x; }',
      'const alsoHidden = (x) => x;',
      'function listed(x) { return x; }',
      'export { listed };',
      'export default {',
      "  a: [inc, 1],",
      "  b: [hidden, 'a'],",
      "  c: [alsoHidden, 'a'],",
      "  d: [listed, 'a'],",
      "  e: [(x) => x, 'a'],",
      '};',
    ].join('\n');
    const a = analyzeGraphSource(text, 'g.graph.js');
    assert.deepEqual(
      a.problems.map((p) => [p.code, p.range.start.line, p.message, p.fix?.title ?? null, p.fix?.at?.start ?? null]),
      [
        ['not-loadable', 7, 'hidden is not exported, so the threads and processes schedulers cannot load it (they import task functions by module and export name); only the sync scheduler can run "b". Export it.', 'Export hidden', { line: 1, character: 0 }],
        ['not-loadable', 8, 'alsoHidden is not exported, so the threads and processes schedulers cannot load it (they import task functions by module and export name); only the sync scheduler can run "c". Export it.', 'Export alsoHidden', { line: 2, character: 0 }],
        ['not-loadable', 10, 'An inline function: the threads and processes schedulers cannot load it (they import task functions by module and export name); only the sync scheduler can run "e". Move it into an exported function.', null, null],
      ],
    );
  });

  it('reports a syntax error where it is', () => {
    const a = analyzeGraphSource('export default {\n  a: [inc, \'x\'\n};\n', 'g.graph.js');
    assert.equal(a.problems[0]?.code, 'syntax');
    assert.equal(a.problems[0]?.range.start.line, 2);
  });
});
