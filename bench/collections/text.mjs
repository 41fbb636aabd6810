// bench/collections.mjs: deterministic text (words of a skewed 20,000-word vocabulary, lines of
// 8 to 16 words). Usage: node text.mjs DIR MEGABYTES FILES
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
const [dir, totalMb, files] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const vocab = Array.from({ length: 20000 }, (_, i) => `w${i.toString(36)}`);
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
for (let f = 0; f < files; f++) {
  const out = createWriteStream(`${dir}/part-${f}.txt`);
  let bytes = 0;
  const target = (totalMb * 1e6) / files;
  while (bytes < target) {
    let chunk = '';
    for (let l = 0; l < 1000; l++) {
      const n = 8 + Math.floor(rnd() * 9);
      const words = [];
      for (let i = 0; i < n; i++) words.push(vocab[Math.floor(vocab.length * rnd() ** 3)]);
      chunk += words.join(' ') + '\n';
    }
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
