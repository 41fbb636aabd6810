// Task functions over typed arrays, for tests that move large values between workers.

/** A Float64Array of `n` ones (a value of 8n bytes). */
export function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

/** The sum of an array's elements. */
export function total(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}
