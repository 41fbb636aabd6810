/**
 * Topological sort and cycle detection.
 *
 * `toposort` is Kahn's algorithm over the graph's insertion order, so its answer is
 * deterministic; when keys are left over, a depth-first walk among them finds one cycle and
 * the error names it as `a -> b -> c -> a` (each key depends on the next).
 */
import { Errors } from '../errors.js';
import { type Dsk, type Graph, type Key, type Relations, getRelations, toDsk } from './spec.js';

/** Keys in an order where every key comes after all of its dependencies. Throws on a cycle. */
export function toposort(graph: Graph, relations?: Relations): Key[] {
  const dsk = toDsk(graph);
  const { dependencies, dependents } = relations ?? getRelations(dsk);
  const remaining = new Map<Key, number>();
  const stack: Key[] = [];
  for (const key of dsk.keys()) {
    const n = dependencies.get(key)!.length;
    if (n === 0) stack.push(key);
    else remaining.set(key, n);
  }
  stack.reverse(); // pop in insertion order
  const out: Key[] = [];
  while (stack.length > 0) {
    const key = stack.pop()!;
    out.push(key);
    const ds = dependents.get(key)!;
    for (let i = ds.length - 1; i >= 0; i--) {
      const d = ds[i]!;
      const n = remaining.get(d)! - 1;
      if (n === 0) {
        remaining.delete(d);
        stack.push(d);
      } else remaining.set(d, n);
    }
  }
  if (remaining.size > 0) throw Errors.cycle(findCycle(dsk, dependencies, remaining.keys()));
  return out;
}

/** Finds one cycle among `candidates` (keys left over by Kahn's algorithm). */
export function findCycle(dsk: Dsk, dependencies: ReadonlyMap<Key, readonly Key[]>, candidates: Iterable<Key>): Key[] {
  const state = new Map<Key, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of candidates) {
    if (state.has(start)) continue;
    const path: Key[] = [start];
    const cursor: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const key = path[path.length - 1]!;
      const deps = dependencies.get(key) ?? [];
      const i = cursor[cursor.length - 1]!;
      if (i >= deps.length) {
        state.set(key, 2);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[cursor.length - 1] = i + 1;
      const dep = deps[i]!;
      const s = state.get(dep);
      if (s === 1) return [...path.slice(path.indexOf(dep)), dep];
      if (s === undefined && dsk.has(dep)) {
        state.set(dep, 1);
        path.push(dep);
        cursor.push(0);
      }
    }
  }
  return [];
}
