/**
 * Checks a graph before anything runs: task heads, requested keys, cycles.
 */
import { Errors } from '../errors.js';
import { type Dsk, type Key, describeValue } from './spec.js';

/** A value that looks like a task whose function is missing: `[undefined, 'x']`, `[null]`. */
export function checkTaskHeads(dsk: Dsk): void {
  for (const [key, value] of dsk) {
    if (!Array.isArray(value) || value.length === 0) continue;
    const head: unknown = value[0];
    if (head === undefined || head === null) throw Errors.badHead(key, describeValue(head));
    if (typeof head === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(head))) {
      throw Errors.badHead(key, `class ${head.name} (a class cannot be called without new)`);
    }
  }
}

/** Every requested key must be in the graph. */
export function checkKeys(dsk: Dsk, keys: Iterable<Key>): void {
  for (const key of keys) if (!dsk.has(key)) throw Errors.missingKey(key, dsk.keys());
}
