// One process of bench/collections.mjs: word frequencies with skein/bag, computed twice.
import { readText } from 'skein/bag';
const [glob, scheduler] = process.argv.slice(2);
const times = [];
let words = 0;
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const lines = await readText(glob, { blocksize: '16MB' });
  const freq = await lines.map((line) => line.split(' ')).flatten().frequencies().compute({ scheduler });
  times.push(performance.now() - t0);
  words = freq.length;
}
console.log(JSON.stringify({ firstMs: times[0], secondMs: times[1], words }));
