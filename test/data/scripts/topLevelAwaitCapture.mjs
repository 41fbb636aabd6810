// The same first program, its task function using a variable of the module: it cannot travel by
// its source. Usage: node topLevelAwaitCapture.mjs [scheduler]
import { compute, delayed } from 'skein';

const factor = 2;
export const double = (x) => x * factor;
const options = process.argv[2] ? [{ scheduler: process.argv[2] }] : [];
console.log(await compute(delayed(double)(21), ...options));
