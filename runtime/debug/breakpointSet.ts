/**
 * The breakpoints of a debug session, resolved to task numbers when they are set: function
 * breakpoints (a key, a key group or a glob) and line breakpoints (the tasks whose function has
 * the line), indexed by task so the gate finds a task's breakpoints without a scan.
 */
import type { CompiledGraph } from '../graph/compile.js';
import { type ResolvedBreakpoint, type SourceIndex, tasksForName } from './breakpoints.js';
import type { BreakpointResult, FunctionBreakpointSpec, LineBreakpointSpec } from './protocol.js';

type Placed = ResolvedBreakpoint & { readonly tasks: number[] };

export class BreakpointSet {
  #byTask = new Map<number, ResolvedBreakpoint[]>();
  #functions: Placed[] = [];
  #lines = new Map<string, Placed[]>();
  #nextId = 1;

  /** The breakpoints that may stop before task `t`. */
  forTask(t: number): readonly ResolvedBreakpoint[] | undefined {
    return this.#byTask.get(t);
  }

  /** Replaces the function breakpoints (DAP sends them all each time). */
  setFunctions(specs: readonly FunctionBreakpointSpec[], graph: CompiledGraph | undefined): BreakpointResult[] {
    this.#functions = [];
    const results = specs.map((spec): BreakpointResult => {
      const id = this.#nextId++;
      const bp: Placed = { id, condition: spec.condition, hitCondition: spec.hitCondition, hits: 0, tasks: graph ? tasksForName(graph, spec.name) : [] };
      this.#functions.push(bp);
      return bp.tasks.length > 0 ? { id, verified: true } : { id, verified: false, message: `No task key, key group or glob matches ${JSON.stringify(spec.name)}.` };
    });
    this.#reindex();
    return results;
  }

  /** Replaces the line breakpoints of `file`. */
  setLines(file: string, specs: readonly LineBreakpointSpec[], sources: SourceIndex | undefined): BreakpointResult[] {
    const list: Placed[] = [];
    const results = specs.map((spec): BreakpointResult => {
      const id = this.#nextId++;
      const where = sources?.tasksAt(file, spec.line) ?? { reason: 'The graph is not loaded yet.' };
      if ('reason' in where) return { id, verified: false, line: spec.line, message: where.reason };
      list.push({ id, condition: spec.condition, hitCondition: spec.hitCondition, hits: 0, tasks: where.tasks });
      return { id, verified: true, line: spec.line };
    });
    this.#lines.set(file, list);
    this.#reindex();
    return results;
  }

  #reindex(): void {
    this.#byTask.clear();
    for (const bp of [...this.#functions, ...[...this.#lines.values()].flat()]) {
      for (const t of bp.tasks) {
        const list = this.#byTask.get(t);
        if (list) list.push(bp);
        else this.#byTask.set(t, [bp]);
      }
    }
  }
}
