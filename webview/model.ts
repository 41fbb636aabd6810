/**
 * The panel's model of a run: the recorded run (record.ts) plus live states, and the graph that
 * is on screen: tasks, or key groups collapsed into one node with counts and progress.
 */
import { phasesOf } from '../runtime/core/phases.js';
import { TASK_STATES, type TaskStateName, stateOfCode } from '../runtime/core/taskStates.js';
import type { RunRecord } from '../runtime/diagnostics/recordSchema.js';

export type State = TaskStateName;
export const STATES: readonly State[] = TASK_STATES;

/** A node on screen: one task, or a collapsed key group. */
export interface VisibleNode {
  readonly id: string;
  readonly label: string;
  /** Task number, or -1 for a group node. */
  readonly task: number;
  readonly group: string;
  /** How many tasks the node stands for. */
  readonly members: number;
  /** The tasks a group node stands for (a task node: just its task). */
  readonly tasks: readonly number[];
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface VisibleGraph {
  readonly nodes: VisibleNode[];
  readonly edges: Array<readonly [string, string]>;
}

/** Above this many tasks a graph opens collapsed by key group. */
export const COLLAPSE_ABOVE = 300;
/** Most task nodes shown for one expanded group. */
export const MAX_EXPANDED = 1500;

export class RunModel {
  readonly record: RunRecord;
  readonly size: number;
  readonly groupNames: string[];
  /** Group index per task. */
  readonly groupOf: Int32Array;
  readonly groupMembers: number[][];
  states: State[];
  expanded = new Set<string>();

  constructor(record: RunRecord) {
    this.record = record;
    this.size = record.graph.keys.length;
    const index = new Map<string, number>();
    this.groupNames = [];
    this.groupMembers = [];
    this.groupOf = new Int32Array(this.size);
    record.graph.groups.forEach((g, t) => {
      let i = index.get(g);
      if (i === undefined) {
        i = this.groupNames.length;
        index.set(g, i);
        this.groupNames.push(g);
        this.groupMembers.push([]);
      }
      this.groupOf[t] = i;
      this.groupMembers[i]!.push(t);
    });
    this.states = record.tasks.status.map((s) => (STATES.includes(s as State) ? (s as State) : 'waiting'));
    if (this.size <= COLLAPSE_ABOVE) for (const g of this.groupNames) this.expanded.add(g);
  }

  /** Applies live transitions: task `tasks[i]` is now in the state coded by `codes[i]`. */
  applyTransitions(tasks: readonly number[], codes: string): void {
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t >= 0 && t < this.size) this.states[t] = stateOfCode(codes[i]!);
    }
  }

  /** The run ended before these tasks finished (stopped, its runner gone): none is running or about to. */
  endRun(): void {
    for (let t = 0; t < this.size; t++) if (this.states[t] === 'running' || this.states[t] === 'ready') this.states[t] = 'waiting';
  }

  /** Counts of tasks by state, for one group or all. */
  counts(members?: readonly number[]): Record<State, number> {
    const c: Record<State, number> = { waiting: 0, ready: 0, running: 0, memory: 0, released: 0, erred: 0 };
    if (members) for (const t of members) c[this.states[t]!]++;
    else for (const s of this.states) c[s]++;
    return c;
  }

  /** The graph on screen: expanded groups as tasks (capped), the rest as one node per group. */
  visible(): VisibleGraph {
    const nodes: VisibleNode[] = [];
    const nodeOfTask = new Map<number, string>();
    this.groupNames.forEach((g, gi) => {
      const members = this.groupMembers[gi]!;
      if (this.expanded.has(g)) {
        for (const t of members.slice(0, MAX_EXPANDED)) {
          const id = `t${t}`;
          nodes.push({ id, label: this.record.graph.keys[t]!, task: t, group: g, members: 1, tasks: [t], x: 0, y: 0, width: 150, height: 26 });
          nodeOfTask.set(t, id);
        }
        if (members.length > MAX_EXPANDED) {
          const id = `g${gi}-rest`;
          const rest = members.slice(MAX_EXPANDED);
          nodes.push({ id, label: `${g}: ${rest.length} more`, task: -1, group: g, members: rest.length, tasks: rest, x: 0, y: 0, width: 170, height: 34 });
          for (const t of members.slice(MAX_EXPANDED)) nodeOfTask.set(t, id);
        }
      } else {
        const id = `g${gi}`;
        nodes.push({ id, label: `${g} ×${members.length}`, task: -1, group: g, members: members.length, tasks: members, x: 0, y: 0, width: 170, height: 34 });
        for (const t of members) nodeOfTask.set(t, id);
      }
    });
    const seen = new Set<string>();
    const edges: Array<readonly [string, string]> = [];
    this.record.graph.dependencies.forEach((deps, t) => {
      const to = nodeOfTask.get(t)!;
      for (const d of deps) {
        const from = nodeOfTask.get(d)!;
        if (from === to) continue;
        const id = `${from}>${to}`;
        if (!seen.has(id)) {
          seen.add(id);
          edges.push([from, to]);
        }
      }
    });
    return { nodes, edges };
  }

  /** The phases of task `t` in ms (null where not measured; runtime/core/phases.ts). */
  phases(t: number): { wait: number | null; startup: number | null; transfer: number | null; run: number | null; result: number | null } {
    const k = this.record.tasks;
    const n = (v: number | null | undefined): number => (v == null ? Number.NaN : v);
    const p = phasesOf(n(k.ready[t]), n(k.dispatched[t]), n(k.started[t]), n(k.finished[t]), n(k.received[t]), this.record.workers[k.worker[t]!]?.startup);
    const or = (x: number): number | null => (Number.isNaN(x) ? null : x);
    return { wait: or(p.wait), startup: or(p.startup), transfer: or(p.transfer), run: or(p.run), result: or(p.result) };
  }
}
