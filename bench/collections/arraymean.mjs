// One process of bench/collections.mjs: the mean of a 10,000 × 10,000 random array in
// 1,000 × 1,000 blocks with skein/array (threads, the default), computed twice.
import * as da from 'skein/array';
const scheduler = process.argv[2] ?? 'threads';
const times = [];
let mean = 0;
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  mean = await da.random.random([10_000, 10_000], { chunks: [1_000, 1_000] }).mean().compute({ scheduler });
  times.push(performance.now() - t0);
}
console.log(JSON.stringify({ firstMs: times[0], secondMs: times[1], mean }));
