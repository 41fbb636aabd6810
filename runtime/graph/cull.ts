/**
 * `cull`: the part of a graph that the wanted keys need, and nothing else.
 */
import { Errors } from '../errors.js';
import { compileGraph, neededMask } from './compile.js';
import type { Graph, Key } from './spec.js';

/** Keys as `get` takes them: a list whose elements are keys or lists of keys, nested. */
export type NestedKeyList = ReadonlyArray<Key | NestedKeyList>;

/**
 * Returns a new graph holding only `keys` and their transitive dependencies, in the original
 * insertion order. A wanted key missing from the graph is refused with the closest keys.
 *
 *     a ─▶ b ─▶ c        cull(graph, ['b']) keeps a and b; c and d are dropped
 *     d
 */
export function cull(graph: Graph, keys: Key | NestedKeyList): Map<Key, unknown> {
  const g = compileGraph(graph);
  // nested lists of keys as `get` takes them: cull(graph, [['out'], ['z']])
  const flat = (typeof keys === 'string' ? [keys] : keys).flat(Infinity as 1) as unknown[];
  for (const k of flat) if (typeof k !== 'string') throw new TypeError(`cull(graph, keys): keys must be keys (strings) or lists of them, nested as get takes them; got ${typeof k}.`);
  const wanted = (flat as Key[]).map((k) => {
    const t = g.index.get(k);
    if (t === undefined) throw Errors.missingKey(k, g.keys);
    return t;
  });
  const needed = neededMask(g, wanted);
  const out = new Map<Key, unknown>();
  for (let t = 0; t < g.size; t++) if (needed === null || needed[t] === 1) out.set(g.keys[t]!, g.values[t]);
  return out;
}
