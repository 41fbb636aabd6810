/**
 * Stack traces for people: Skein's own frames and Node internals removed, so what is left
 * points at user code.
 */

import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Skein's own folder: two levels up from this module, whether it runs bundled (dist/runtime/) or
 * from source (runtime/cli/). Frames there are Skein's, through source maps too (they name the
 * runtime/ sources the bundle was built from).
 */
const SKEIN_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const OWN = [`${SKEIN_ROOT}${sep}dist${sep}`, `${SKEIN_ROOT}${sep}runtime${sep}`];

/** A stack without Skein's own frames and Node internals. */
export function userStack(stack: string): string {
  const internal = /(\/dist\/runtime\/|\/runtime\/(core|schedulers|workers)\/|node_modules[\\/](piscina|commander)|\(node:internal|at node:internal)/;
  return stack
    .split('\n')
    .filter((line) => !(line.trimStart().startsWith('at ') && (internal.test(line) || OWN.some((own) => line.includes(own)))))
    .join('\n');
}

