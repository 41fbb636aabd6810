// A client started with no sizing options: prints its workers' thread counts, so the
// configuration in scope (environment, config.set) is seen to size the LocalCluster.
// Usage: node clientSized.mjs [set]
import { config } from 'skein';
import { Client } from 'skein/distributed';

if (process.argv[2] === 'set') config.set({ numWorkers: 3, threadsPerWorker: 1 });
const client = new Client({ dashboardAddress: null });
await client.ready;
const workers = Object.values((await client.schedulerInfo()).workers).map((w) => w.nthreads);
process.stdout.write(`${JSON.stringify(workers)}\n`);
await client.close();
