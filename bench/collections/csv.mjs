// bench/collections.mjs: a deterministic CSV of ROWS rows (id, category of 20, value, flag).
// Usage: node csv.mjs FILE ROWS
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
const [file, rows] = [process.argv[2], Number(process.argv[3])];
const out = createWriteStream(file);
let seed = 42;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
out.write('id,category,value,flag\n');
for (let at = 0; at < rows; at += 10_000) {
  let chunk = '';
  for (let i = at; i < Math.min(rows, at + 10_000); i++) chunk += `${i},cat-${Math.floor(rnd() * 20)},${(rnd() * 1000).toFixed(4)},${rnd() < 0.5 ? 1 : 0}\n`;
  if (!out.write(chunk)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
