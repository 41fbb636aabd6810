// A script that uploads a module to its cluster's workers and ends without closing its client:
// prints each worker's folder, where the uploaded copy is; they must be gone once it has ended.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'skein/distributed';

const client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null });
await client.ready;
await client.uploadFile(new URL('../receiver.graph.ts', import.meta.url).pathname);
for (const w of Object.values((await client.schedulerInfo()).workers)) console.log(join(tmpdir(), `skein-worker-${w.name}-${w.pid}`));
