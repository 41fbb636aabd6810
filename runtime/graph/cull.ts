/**
 * `cull`: the part of a graph that the wanted keys need, and nothing else.
 */
import { Errors } from '../errors.js';
import { type Dsk, type Graph, type Key, getDependencies, toDsk } from './spec.js';

/**
 * Returns a new graph holding only `keys` and their transitive dependencies, in the original
 * insertion order. A wanted key missing from the graph is refused with the closest keys.
 *
 *     a ─▶ b ─▶ c        cull(graph, ['b']) keeps a and b; c and d are dropped
 *     d
 */
export function cull(graph: Graph, keys: Key | readonly Key[]): Map<Key, unknown> {
  const dsk: Dsk = toDsk(graph);
  const wanted = typeof keys === 'string' ? [keys] : keys;
  const needed = new Set<Key>();
  const stack: Key[] = [];
  for (const key of wanted) {
    if (!dsk.has(key)) throw Errors.missingKey(key, dsk.keys());
    if (!needed.has(key)) {
      needed.add(key);
      stack.push(key);
    }
  }
  while (stack.length > 0) {
    for (const dep of getDependencies(dsk, stack.pop()!)) {
      if (!needed.has(dep)) {
        needed.add(dep);
        stack.push(dep);
      }
    }
  }
  const out = new Map<Key, unknown>();
  if (needed.size === dsk.size) return new Map(dsk);
  for (const [key, value] of dsk) if (needed.has(key)) out.set(key, value);
  return out;
}
