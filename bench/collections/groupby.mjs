// One process of bench/collections.mjs: groupby-mean over a CSV with skein/dataframe, computed twice.
import { readCsv } from 'skein/dataframe';
const [file, scheduler] = process.argv.slice(2);
const times = [];
let groups = 0;
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const df = await readCsv(file, { blocksize: '64MB' });
  groups = (await df.groupby('category').mean('value').compute({ scheduler })).height;
  times.push(performance.now() - t0);
}
console.log(JSON.stringify({ firstMs: times[0], secondMs: times[1], groups }));
