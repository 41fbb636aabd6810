/**
 * What the Variables view shows for a paused task, scope by scope: Task (key, group, function,
 * order, dependencies, dependents, inputs, the error), Last result, and Graph (counts by state
 * from the scheduler's own lists, and the results held with their sizes). Values become
 * variables only when the view asks (`Handles`), so a step costs nothing per task of the graph.
 */
import { serialize } from 'node:v8';
import { TaskStatus, type SchedulerState, type TaskStatusName } from '../core/state.js';
import type { CompiledGraph } from '../graph/compile.js';
import { keyGroup } from '../graph/spec.js';
import { describeFunction } from '../loader/locate.js';
import type { VariableInfo } from './protocol.js';
import { type Handles, parameterNames, preview, variable } from './variables.js';

/** The paused task, as the scopes need it. */
export interface PausedTask {
  readonly t: number;
  /** The arguments its function will receive. */
  readonly args: unknown[];
  /** False for a value that only mentions other keys (then `args` is `[value]`). */
  readonly isCall: boolean;
  readonly error?: unknown;
  /** Paused after it ran (a result breakpoint): what it returned. */
  readonly result?: { readonly value: unknown };
}

/** The input `name` (a parameter name, `argN` or `N`) of the paused task, as an index into its args; -1 if none. */
export function inputIndex(graph: CompiledGraph, paused: PausedTask, name: string): number {
  if (!paused.isCall) return name === 'value' ? 0 : -1;
  const names = parameterNames((graph.values[paused.t] as unknown[])[0] as Function);
  const byName = names.indexOf(name);
  if (byName >= 0 && !names[byName]!.startsWith('...')) return byName;
  const m = /^(?:arg)?(\d+)$/.exec(name.replace(/^\[|\]$/g, ''));
  return m ? Number(m[1]) : -1;
}

/** The Task scope, and the handle of its `inputs` (setVariable edits those). */
export function taskScope(st: SchedulerState, paused: PausedTask, handles: Handles): { variables: VariableInfo[]; inputsRef: number } {
  const { graph, priority } = st;
  const t = paused.t;
  const fn = paused.isCall ? ((graph.values[t] as unknown[])[0] as Function) : undefined;
  const names = fn ? parameterNames(fn) : ['value'];
  const inputs: VariableInfo[] = [];
  const count = Math.max(names.length, paused.args.length);
  for (let i = 0; i < count; i++) {
    const name = names[i] ?? `arg${i}`;
    if (name.startsWith('...')) {
      inputs.push(variable(handles, name.slice(3), paused.args.slice(i), `args.slice(${i})`));
      break;
    }
    inputs.push(variable(handles, name, paused.args[i], `args[${i}]`));
  }
  const inputsRef = handles.add({ kind: 'lazy', items: () => inputs });
  const keys = (from: Int32Array, start: number, end: number): string[] => Array.from(from.subarray(start, end), (d) => graph.keys[d]!);
  const dependencies = keys(graph.deps, graph.depStart[t]!, graph.depStart[t + 1]!);
  const dependents = keys(graph.dependents, graph.dependentStart[t]!, graph.dependentStart[t + 1]!);
  const item = (name: string, value: unknown): VariableInfo => variable(handles, name, value);
  const variables = [
    item('key', graph.keys[t]),
    item('group', keyGroup(graph.keys[t]!)),
    item('function', fn ? describeFunction(fn) : '(value)'),
    item('order', `${priority[t]! + 1} of ${graph.size}`),
    item('dependencies', dependencies),
    item('dependents', dependents),
    { name: 'inputs', value: `(${inputs.map((i) => i.name).join(', ')})`, variablesReference: inputsRef, namedVariables: inputs.length },
    ...(paused.error !== undefined ? [item('error', paused.error)] : []),
    ...(paused.result !== undefined ? [variable(handles, 'result', paused.result.value, 'result')] : []),
  ];
  return { variables, inputsRef };
}

/** The Last result scope: the key and value of the task that finished last. */
export function lastResultScope(last: { key: string; value: unknown } | undefined, handles: Handles): VariableInfo[] {
  if (last === undefined) return [{ name: 'key', value: '(no task has finished yet)', variablesReference: 0 }];
  return [variable(handles, 'key', last.key), variable(handles, 'value', last.value, 'result')];
}

/**
 * The Graph scope: how many tasks are in each state (`counts`, kept from the transition log), and
 * the results held with their sizes. A task paused on its error is counted as erred.
 */
export function graphScope(st: SchedulerState, counts: Readonly<Record<TaskStatusName, number>>, pausedOnError: boolean, handles: Handles): VariableInfo[] {
  const n = st.graph.size;
  const shown = pausedOnError ? { ...counts, running: counts.running - 1, erred: counts.erred + 1 } : counts;
  const memory = counts.memory;
  const held = (): VariableInfo[] => {
    const out: VariableInfo[] = [];
    for (let t = 0; t < n && out.length < 1000; t++) {
      if (st.status[t] !== TaskStatus.memory) continue;
      let size = '';
      try {
        size = `${serialize(st.cache[t]).byteLength} bytes`;
      } catch {
        size = 'not serializable';
      }
      out.push({ ...variable(handles, st.graph.keys[t]!, st.cache[t], st.graph.keys[t]), value: `${size}: ${preview(st.cache[t])}` });
    }
    return out;
  };
  return [
    { name: 'tasks', value: String(n), variablesReference: 0 },
    ...Object.entries(shown).map(([k, v]) => ({ name: k, value: String(v), variablesReference: 0 })),
    { name: 'results in memory', value: `${memory} held`, variablesReference: handles.add({ kind: 'lazy', items: held }) },
  ];
}
