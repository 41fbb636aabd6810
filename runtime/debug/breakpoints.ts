/**
 * Breakpoints for a task graph. Skein pauses *before a task runs*, so every breakpoint resolves
 * to a set of tasks:
 * - a function breakpoint names a key, a key group, or a glob over keys (`clean-*`);
 * - a line breakpoint inside a task function's body pauses before every task that calls it;
 *   one on the line that defines a task in the graph file pauses before that task (a template
 *   key such as `load-${region}` matches like the glob `load-*`);
 * - any other line cannot pause anything: it is reported unverified, with the reason.
 * Conditions are JavaScript expressions over the task's inputs; hit conditions are `N` or
 * `==N` (the Nth hit), `>N`, `>=N`, `<N`, `<=N` or `%N` (every Nth).
 */
import { readFileSync } from 'node:fs';
import type { CompiledGraph } from '../graph/compile.js';
import { taskFunction } from '../graph/spec.js';
import { tasksNamed } from './breakpointNames.js';
import { functionLocation } from '../loader/locate.js';

export interface ResolvedBreakpoint {
  readonly id: number;
  readonly condition?: string;
  readonly hitCondition?: string;
  hits: number;
}

/** Tasks a function breakpoint `name` stands for (breakpointNames.ts: the key, a glob's keys, or a key group's). */
export function tasksForName(g: CompiledGraph, name: string): number[] {
  return tasksNamed(g.keys, name, (key) => g.index.get(key));
}

/** True when a hit count meets a hit condition (see the file header). */
export function hitConditionMet(condition: string | undefined, hits: number): boolean {
  if (condition === undefined || condition.trim() === '') return true;
  const m = /^\s*(==|=|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(condition);
  if (!m) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>':
      return hits > n;
    case '>=':
      return hits >= n;
    case '<':
      return hits < n;
    case '<=':
      return hits <= n;
    case '%':
      return n > 0 && hits % n === 0;
    default:
      return hits === n;
  }
}

interface FunctionSpan {
  readonly file: string;
  readonly start: number;
  readonly end: number;
  readonly tasks: number[];
}

/** Where tasks live in source files: task functions' bodies and the lines that define tasks. */
export class SourceIndex {
  readonly #spans: FunctionSpan[] = [];
  readonly #definitions = new Map<string, Map<number, number[]>>();
  readonly #taskSource = new Map<number, { file: string; line: number }>();

  constructor(private readonly g: CompiledGraph, graphFile: string) {
    const byFn = new Map<Function, number[]>();
    for (let t = 0; t < g.size; t++) {
      const fn = taskFunction(g.values[t]);
      if (fn !== undefined) {
        const list = byFn.get(fn);
        if (list) list.push(t);
        else byFn.set(fn, [t]);
      }
    }
    for (const [fn, tasks] of byFn) {
      const where = functionLocation(fn);
      if (where === null) continue;
      const lines = Function.prototype.toString.call(fn).split('\n').length;
      this.#spans.push({ file: where.file, start: where.line, end: where.line + lines - 1, tasks });
      for (const t of tasks) this.#taskSource.set(t, { file: where.file, line: where.line });
    }
    this.#indexDefinitions(graphFile);
    for (const [file, lines] of this.#definitions) {
      for (const [line, tasks] of lines) for (const t of tasks) if (!this.#taskSource.has(t)) this.#taskSource.set(t, { file, line });
    }
  }

  #indexDefinitions(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const lines = new Map<number, number[]>();
    text.split('\n').forEach((line, i) => {
      const found = new Set<number>();
      // 'key': / "key": / key: (object literals) and graph['key'] = / graph[`key-${x}`] =
      for (const m of line.matchAll(/(['"`])((?:\\.|(?!\1).)+)\1\s*[\]:]/g)) {
        const raw = m[2]!;
        const tasks = m[1] === '`' ? tasksForName(this.g, raw.replace(/\$\{[^}]*\}/g, '*')) : tasksForName(this.g, raw);
        if (m[1] !== '`' && !this.g.index.has(raw)) continue;
        for (const t of tasks) found.add(t);
      }
      for (const m of line.matchAll(/^\s*([A-Za-z_$][\w$]*)\s*:/g)) {
        const t = this.g.index.get(m[1]!);
        if (t !== undefined) found.add(t);
      }
      if (found.size > 0) lines.set(i + 1, [...found]);
    });
    this.#definitions.set(file, lines);
  }

  /** Tasks a line breakpoint at `file:line` pauses before, or a reason why it cannot pause. */
  tasksAt(file: string, line: number): { tasks: number[] } | { reason: string } {
    const inBody = this.#spans.filter((s) => s.file === file && s.start <= line && line <= s.end);
    if (inBody.length > 0) return { tasks: inBody.flatMap((s) => s.tasks) };
    const defined = this.#definitions.get(file)?.get(line);
    if (defined !== undefined) return { tasks: defined };
    return {
      reason: 'Skein pauses before tasks: put the breakpoint inside a task function, or on the line that defines a task in the graph file. No task runs code on this line or is defined here.',
    };
  }

  /** Source location of a task: its function's definition, else the line that defines it. */
  locate(t: number): { file: string | null; line: number } {
    return this.#taskSource.get(t) ?? { file: null, line: 0 };
  }
}
