// Imported without an extension by a dotted name, as `./helpers/math.service`.
export const triple = (x: number): number => 3 * x;
