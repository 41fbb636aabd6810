// Imported by delayed.graph.ts with a `.js` specifier, as TypeScript's NodeNext style writes it.
export function double(x: number): number {
  return 2 * x;
}
