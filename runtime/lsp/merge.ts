/**
 * What evaluating a graph file (evaluate.ts) adds to what its source shows (analysis.ts): a file
 * that does not load, at the line that failed; a task array headed by a name that is not a
 * function when the file loads; a cycle through keys the parser cannot see; and no "did you mean"
 * for a string that names a key the file makes in code the parser cannot follow.
 */
import { basename, dirname, extname, relative, resolve } from 'node:path';
import { type GraphAnalysis, type Problem, type Range, type TaskDef, patternRegExp } from './analysis.js';
import type { Evaluation } from './evaluate.js';

const lineRange = (lines: readonly string[], line: number, from = -1): Range => {
  const text = lines[line] ?? '';
  const start = from >= 0 ? Math.min(from, text.length) : text.length - text.trimStart().length;
  return { start: { line, character: start }, end: { line, character: text.length } };
};

/** The module a specifier names, without its extension (`./ops.js` and ops.ts are one). */
const stem = (path: string): string => path.slice(0, path.length - extname(path).length);

/** The task definitions a key comes from: its own, else the patterns it matches. */
function definitionsOf(a: GraphAnalysis, key: string): TaskDef[] {
  const own = a.tasks.filter((d) => !d.pattern && d.key === key);
  return own.length > 0 ? own : a.tasks.filter((d) => d.pattern && patternRegExp(d.key).test(key));
}

/** The problems of `a` with what `e`, the evaluation of the same text of `file`, adds and takes away. */
export function withEvaluation(a: GraphAnalysis, e: Evaluation | undefined, file: string, text: string): Problem[] {
  if (e === undefined) return [...a.problems];
  const lines = text.split('\n');
  const name = basename(file);
  const top = a.exportRange ?? lineRange(lines, 0);
  if (!e.ok) {
    if (e.kind !== 'load') return [...a.problems, { range: top, severity: e.kind === 'timeout' ? 'warning' : 'information', code: 'evaluation', message: e.message }];
    let range: Range | undefined;
    let where = '';
    if (e.at !== null && e.at.file === file) range = lineRange(lines, e.at.line - 1, e.at.column - 1);
    else if (e.at !== null) {
      // in a module the file imports: on that import, naming where
      where = ` (at ${relative(dirname(file), e.at.file)}:${e.at.line})`;
      const local = a.imports.filter((i) => i.specifier.startsWith('.'));
      range = (local.find((i) => stem(resolve(dirname(file), i.specifier)) === stem(e.at!.file)) ?? local[0])?.range;
    } else {
      // a module not found: on the import that names it
      range = a.imports.find((i) => e.message.includes(`'${i.specifier}'`) || e.message.includes(`"${i.specifier}"`))?.range;
    }
    return [...a.problems, { range: range ?? lineRange(lines, 0), severity: 'error', code: 'load', message: `${name} does not load: ${e.message}${where}` }];
  }

  const made = new Set(e.keys.map((k) => k.key));
  const problems = a.problems.filter((p) => p.code !== 'near-miss' || !a.tasks.some((d) => d.references.some((r) => r.range === p.range && made.has(r.text))));
  // heads the source names but that are not functions once the file has loaded
  const flagged = new Set<TaskDef>();
  for (const k of e.keys) {
    if (k.head === null && k.refused === null) continue;
    for (const d of definitionsOf(a, k.key)) {
      if (d.head === null || flagged.has(d)) continue;
      flagged.add(d);
      problems.push({
        range: d.head.range,
        severity: 'error',
        code: 'not-a-function',
        message:
          k.refused !== null
            ? `${k.head === null ? '' : `${d.head.name} is ${k.head} when ${name} loads. `}${k.refused}`
            : `${d.head.name} is ${k.head} when ${name} loads, not a function, so ${JSON.stringify(k.key)} is a plain list and nothing runs for it. Check what ${d.head.name} names (its import, its spelling).`,
      });
    }
  }
  if (e.cycle !== null && !problems.some((p) => p.code === 'cycle')) {
    const message = `Cycle: ${e.cycle.join(' → ')}. A task cannot depend on itself, directly or through others; no scheduler can run these.`;
    const defs = new Set(e.cycle.slice(0, -1).flatMap((k) => definitionsOf(a, k)));
    if (defs.size === 0) problems.push({ range: top, severity: 'error', code: 'cycle', message });
    for (const d of defs) problems.push({ range: d.range, severity: 'error', code: 'cycle', message });
  }
  return problems.sort((x, y) => x.range.start.line - y.range.start.line || x.range.start.character - y.range.start.character);
}
