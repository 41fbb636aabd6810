// A graph of 1,000,000 trivial tasks: 1,000 groups of 1,000, a partial sum per group, one total.
import { inc, sum } from './ops.js';

export const MILLION = 1_000_000;

export function millionGraph(): Record<string, unknown> {
  const graph: Record<string, unknown> = {};
  const parts: string[] = [];
  for (let p = 0; p < 1000; p++) {
    const keys: string[] = [];
    for (let i = p * 1000; i < (p + 1) * 1000; i++) {
      graph[`t-${i}`] = [inc, i];
      keys.push(`t-${i}`);
    }
    graph[`part-${p}`] = [sum, ...keys];
    parts.push(`part-${p}`);
  }
  graph.total = [sum, ...parts];
  return graph;
}

/** The total of millionGraph(): the sum of 1..1,000,000. */
export const MILLION_TOTAL = (MILLION * (MILLION + 1)) / 2;
