/**
 * `order`: a static priority for every key (0 runs first), in the spirit of Dask's `order`.
 *
 * Policy. The order is a depth-first post-order walk of the graph, started from its outputs:
 *
 * 1. Outputs (keys no other key depends on) are taken one at a time, in the graph's insertion
 *    order. Everything one output needs is ordered before the next output's own work starts, so
 *    the scheduler finishes one output before it starts many, and results flow out early.
 * 2. Below a key, its dependencies are visited tallest first (the one with the longest chain of
 *    dependencies beneath it). Running the deepest branch first and the shallow ones last means
 *    fewer finished branches sit in memory waiting for a slow sibling (the Sethi–Ullman rule for
 *    evaluating expression trees with few registers). Equal heights keep argument order.
 * 3. A key already ordered is not visited again, so a dependency shared by several dependents
 *    runs once, as early as the first of them needs it.
 *
 * The walk is iterative (a chain of a million tasks does not overflow the stack), linear in the
 * size of the graph except for sorting a key's dependencies when their heights differ, and uses
 * no string comparison, so the same graph always gets the same order. The core's ready stack
 * breaks ties with these priorities, which is what makes single-stepping reproducible.
 */
import { type CompiledGraph, compileGraph } from './compile.js';
import type { Graph, Key } from './spec.js';
import { postorder } from './toposort.js';

/** Priority per task number of a compiled graph. Throws a cycle error for cyclic graphs. */
export function orderCompiled(g: CompiledGraph): Int32Array {
  const { size: n, depStart, deps, dependentStart } = g;
  const { height } = postorder(g);
  const priority = new Int32Array(n).fill(-1);
  const entered = new Uint8Array(n);
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  const sorted: (Int32Array | undefined)[] = []; // per stack level: children sorted by height, when needed
  let next = 0;

  const childrenOf = (t: number): Int32Array | undefined => {
    const start = depStart[t]!;
    const end = depStart[t + 1]!;
    if (end - start < 2) return undefined;
    const h0 = height[deps[start]!]!;
    let uniform = true;
    for (let e = start + 1; e < end && uniform; e++) uniform = height[deps[e]!] === h0;
    if (uniform) return undefined;
    return Int32Array.from(deps.subarray(start, end)).sort((a, b) => height[b]! - height[a]! || 0);
  };

  for (let root = 0; root < n; root++) {
    if (dependentStart[root + 1]! > dependentStart[root]! || entered[root] === 1) continue;
    let top = 0;
    stack[0] = root;
    cursor[0] = 0;
    sorted[0] = childrenOf(root);
    entered[root] = 1;
    while (top >= 0) {
      const t = stack[top]!;
      const i = cursor[top]!;
      const custom = sorted[top];
      const count = depStart[t + 1]! - depStart[t]!;
      if (i < count) {
        cursor[top] = i + 1;
        const child = custom !== undefined ? custom[i]! : deps[depStart[t]! + i]!;
        if (entered[child] === 0) {
          entered[child] = 1;
          stack[++top] = child;
          cursor[top] = 0;
          sorted[top] = childrenOf(child);
        }
      } else {
        priority[t] = next++;
        top--;
      }
    }
  }
  return priority;
}

/** Priority per key, 0 first. Throws a cycle error for cyclic graphs. */
export function order(graph: Graph): Map<Key, number> {
  const g = compileGraph(graph);
  const priority = orderCompiled(g);
  const out = new Map<Key, number>();
  const byPriority = Array.from(priority.keys()).sort((a, b) => priority[a]! - priority[b]!);
  for (const t of byPriority) out.set(g.keys[t]!, priority[t]!);
  return out;
}
