/**
 * Topological sort and cycle detection, on the compiled graph.
 *
 * `postorder` is an iterative depth-first walk from every key in insertion order that visits
 * dependencies in argument order: its finishing order is a topological order (each key right
 * after its last dependency), deterministic for a given graph. Meeting a key that is still on
 * the walk's path is a cycle; the error names it as `a -> b -> c -> a` (each key depends on
 * the next).
 */
import { Errors } from '../errors.js';
import { type CompiledGraph, compileGraph } from './compile.js';
import type { Graph, Key } from './spec.js';

/**
 * Visits every task after its dependencies; returns the topological order and each task's
 * height (longest chain of dependencies below it). Throws a cycle error.
 */
export function postorder(g: CompiledGraph): { order: Int32Array; height: Int32Array } {
  const { size: n, depStart, deps } = g;
  const color = new Uint8Array(n); // 0 unseen, 1 on the current path, 2 finished
  const height = new Int32Array(n);
  const order = new Int32Array(n);
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  let done = 0;
  for (let root = 0; root < n; root++) {
    if (color[root] !== 0) continue;
    let top = 0;
    stack[0] = root;
    cursor[0] = depStart[root]!;
    color[root] = 1;
    while (top >= 0) {
      const t = stack[top]!;
      const e = cursor[top]!;
      if (e < depStart[t + 1]!) {
        cursor[top] = e + 1;
        const d = deps[e]!;
        if (color[d] === 0) {
          color[d] = 1;
          stack[++top] = d;
          cursor[top] = depStart[d]!;
        } else if (color[d] === 1) {
          const path = Array.from(stack.subarray(0, top + 1));
          const cycle = path.slice(path.indexOf(d)).map((i) => g.keys[i]!);
          throw Errors.cycle([...cycle, g.keys[d]!]);
        }
      } else {
        let h = 0;
        for (let k = depStart[t]!; k < depStart[t + 1]!; k++) {
          const hd = height[deps[k]!]! + 1;
          if (hd > h) h = hd;
        }
        height[t] = h;
        color[t] = 2;
        order[done++] = t;
        top--;
      }
    }
  }
  return { order, height };
}

/** Keys in an order where every key comes after all of its dependencies. Throws on a cycle. */
export function toposort(graph: Graph): Key[] {
  const g = compileGraph(graph);
  return Array.from(postorder(g).order, (t) => g.keys[t]!);
}
