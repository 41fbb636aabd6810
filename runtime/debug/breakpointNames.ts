/**
 * What a function breakpoint's name stands for: the key itself when there is one, else the keys a
 * glob (`clean-*`, `?` one character) matches, else a key group's keys. Pure, so the debugger
 * (breakpoints.ts) and the graph panel (its breakpoint dots) resolve names alike.
 */
import { keyGroup } from '../graph/spec.js';

/** `clean-*` → /^clean-.*$/; `?` matches one character. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** The tasks (by number in `keys`) the function breakpoint `name` stands for; `indexOf` finds a key fast where a map is at hand. */
export function tasksNamed(keys: readonly string[], name: string, indexOf: (key: string) => number | undefined = (k) => (keys.includes(k) ? keys.indexOf(k) : undefined)): number[] {
  const exact = indexOf(name);
  if (exact !== undefined) return [exact];
  const re = /[*?]/.test(name) ? globToRegExp(name) : undefined;
  const out: number[] = [];
  for (let t = 0; t < keys.length; t++) {
    const key = keys[t]!;
    if (re ? re.test(key) : keyGroup(key) === name) out.push(t);
  }
  return out;
}
