// One process of bench/collections.mjs: with skein/array on threads (the default) or processes,
// computed twice: `mean`, the mean of a 10,000 × 10,000 random array in 1,000 × 1,000 blocks;
// `sum`, the mean of the sum of two such arrays (blocks of one cross to the thread that adds).
import * as da from 'skein/array';
const scheduler = process.argv[2] ?? 'threads';
const workload = process.argv[3] ?? 'mean';
const times = [];
let mean = 0;
const random = (seed) => da.random.random([10_000, 10_000], { chunks: [1_000, 1_000], seed });
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const x = workload === 'sum' ? random(1).add(random(2)) : random(undefined);
  mean = await x.mean().compute({ scheduler });
  times.push(performance.now() - t0);
}
console.log(JSON.stringify({ firstMs: times[0], secondMs: times[1], mean }));
