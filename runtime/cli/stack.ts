/**
 * Stack traces for people: Skein's own frames and Node internals removed, so what is left
 * points at user code.
 */

/** A stack without Skein's own frames and Node internals. */
export function userStack(stack: string): string {
  const internal = /(\/dist\/runtime\/|\/runtime\/(core|schedulers|workers)\/|node_modules[\\/](piscina|commander)|\(node:internal|at node:internal)/;
  return stack
    .split('\n')
    .filter((line) => !(line.trimStart().startsWith('at ') && internal.test(line)))
    .join('\n');
}

