// acorn-globals ships no types: the one call Skein makes (lambda.ts).
declare module 'acorn-globals' {
  /** The free (global) identifiers of `source`, each with the nodes that use it. */
  export default function findGlobals(source: string): Array<{ name: string; nodes: unknown[] }>;
}
