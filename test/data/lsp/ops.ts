// Task functions for the language server's evaluation tests.
export function load(part: number): number[] {
  return [part, part * 2];
}
export function total(...parts: number[][]): number {
  return parts.flat().reduce((a, b) => a + b, 0);
}
