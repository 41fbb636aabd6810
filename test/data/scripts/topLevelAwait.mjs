// The first program most people write: the task function and the top-level await in one file.
// Usage: node topLevelAwait.mjs [scheduler]
import { compute, delayed } from 'skein';

export const double = (x) => x * 2;
const options = process.argv[2] ? [{ scheduler: process.argv[2] }] : [];
console.log(await compute(delayed(double)(21), ...options));
