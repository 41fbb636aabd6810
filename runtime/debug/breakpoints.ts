/**
 * Breakpoints for a task graph. Skein pauses *before a task runs*, so every breakpoint resolves
 * to a set of tasks:
 * - a function breakpoint names a key, a key group, or a glob over keys (`clean-*`);
 * - a line breakpoint inside a task function's body pauses before every task that calls it;
 *   one on a line that defines a task in the graph file pauses before that task (where keys are
 *   defined is the language server's analysis of the file; a template key such as
 *   `load-${region}` matches like the glob `load-*`);
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

/**
 * Where tasks live in source files: task functions' bodies, and the lines that define tasks in the
 * graph file as the language server reads it (analysis.ts: a key's property or assignment, all
 * its lines; a template key's lines stand for every key it matches).
 */
export class SourceIndex {
  readonly #spans: FunctionSpan[] = [];
  readonly #definitions = new Map<string, Map<number, number[]>>();
  readonly #functionSource = new Map<number, { file: string; line: number }>();
  /** The graph file read (definitions known); resolves once, never rejects. */
  readonly ready: Promise<void>;

  constructor(
    private readonly g: CompiledGraph,
    graphFile: string,
  ) {
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
      for (const t of tasks) this.#functionSource.set(t, { file: where.file, line: where.line });
    }
    this.ready = this.#indexDefinitions(graphFile).catch(() => undefined);
  }

  async #indexDefinitions(file: string): Promise<void> {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const { analyzeGraphSource } = await import('../lsp/analysis.js');
    const lines = new Map<number, number[]>();
    for (const def of analyzeGraphSource(text, file).tasks) {
      const tasks = def.pattern ? tasksForName(this.g, def.key) : [this.g.index.get(def.key)].filter((t) => t !== undefined);
      for (let line = def.fullRange.start.line + 1; line <= def.fullRange.end.line + 1; line++) {
        const list = lines.get(line) ?? [];
        for (const t of tasks) if (!list.includes(t)) list.push(t);
        if (list.length > 0) lines.set(line, list);
      }
    }
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

  /** Source location of a task: its function's definition, else the first line that defines it. */
  locate(t: number): { file: string | null; line: number } {
    const fn = this.#functionSource.get(t);
    if (fn !== undefined) return fn;
    for (const [file, lines] of this.#definitions) for (const [line, tasks] of lines) if (tasks.includes(t)) return { file, line };
    return { file: null, line: 0 };
  }
}
