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
 * size of the graph except for sorting each key's dependencies by height, and uses no string
 * comparison, so the same graph always gets the same order. The core's ready stack breaks ties
 * with these priorities, which is what makes single-stepping reproducible.
 */
import { type Graph, type Key, type Relations, getRelations, toDsk } from './spec.js';
import { toposort } from './toposort.js';

/** Priority per key, 0 first. Throws a cycle error for cyclic graphs. */
export function order(graph: Graph, relations?: Relations): Map<Key, number> {
  const dsk = toDsk(graph);
  const rel = relations ?? getRelations(dsk);
  const { dependencies, dependents } = rel;
  const height = new Map<Key, number>();
  for (const key of toposort(dsk, rel)) {
    let h = 0;
    for (const dep of dependencies.get(key)!) {
      const hd = height.get(dep)! + 1;
      if (hd > h) h = hd;
    }
    height.set(key, h);
  }

  const priority = new Map<Key, number>();
  const byHeight = (deps: readonly Key[]): readonly Key[] => {
    if (deps.length < 2) return deps;
    const h0 = height.get(deps[0]!)!;
    let uniform = true;
    for (let i = 1; i < deps.length && uniform; i++) uniform = height.get(deps[i]!) === h0;
    if (uniform) return deps;
    return deps.slice().sort((a, b) => height.get(b)! - height.get(a)!); // stable: ties keep argument order
  };

  const stackKeys: Key[] = [];
  const stackChildren: (readonly Key[])[] = [];
  const stackIndex: number[] = [];
  const entered = new Set<Key>();
  for (const root of dsk.keys()) {
    if (dependents.get(root)!.length > 0 || priority.has(root)) continue;
    stackKeys.push(root);
    stackChildren.push(byHeight(dependencies.get(root)!));
    stackIndex.push(0);
    entered.add(root);
    while (stackKeys.length > 0) {
      const top = stackKeys.length - 1;
      const children = stackChildren[top]!;
      const i = stackIndex[top]!;
      if (i < children.length) {
        stackIndex[top] = i + 1;
        const child = children[i]!;
        if (!entered.has(child)) {
          entered.add(child);
          stackKeys.push(child);
          stackChildren.push(byHeight(dependencies.get(child)!));
          stackIndex.push(0);
        }
      } else {
        priority.set(stackKeys.pop()!, priority.size);
        stackChildren.pop();
        stackIndex.pop();
      }
    }
  }
  return priority;
}
