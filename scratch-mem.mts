import { Client } from 'skein/distributed';
import { block, blockSum } from './test/data/ops.js';
const client = new Client({ nWorkers: 1, threadsPerWorker: 2, memoryLimit: '400MB', dashboardAddress: null, setAsDefault: false });
await client.ready;
const info = async (label: string) => { await new Promise((r) => setTimeout(r, 1100)); const i: any = await client.schedulerInfo(); for (const w of Object.values(i.workers) as any[]) console.log(label, 'rss', (w.memory/1e6).toFixed(0), 'managed', (w.managed/1e6).toFixed(0), 'spilled', (w.spilled/1e6).toFixed(0)); };
await info('start');
const made = Array.from({ length: 60 }, (_, i) => client.submit(block, i, 10, { key: `block-${i}` }));
const { wait } = await import('skein/distributed'); await wait(made);
await info('60 made');
if (process.argv[2] === 'sum') { await client.gather(made.map((f) => client.submit(blockSum, f, { key: `seen-${f.key}` }))); await info('summed'); }
await client.close();
