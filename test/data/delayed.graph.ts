// A graph file built with the delayed API, importing `skein` by name: the CLI must resolve that
// import to the runtime running it, even when this file sits outside any project.
import { delayed } from 'skein';
import { double } from './helpers/math.js';

export function square(x: number): number {
  return x * x;
}

const squares = [1, 2, 3].map((x) => delayed(square)(x));
const total = delayed((...xs: number[]) => xs.reduce((a, b) => a + b, 0), { key: 'total' })(...squares);
export default [delayed(double, { key: 'doubled' })(total), total];
