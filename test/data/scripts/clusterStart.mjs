// Dask's `async with LocalCluster(asynchronous=True)` as a module's top-level await: the program
// must not end (exit code 13, unsettled top-level await) while the workers start.
// Usage: node clusterStart.mjs start|ready
import { LocalCluster } from 'skein/distributed';

const how = process.argv[2];
const cluster = how === 'start' ? await LocalCluster.start({ nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null }) : new LocalCluster({ nWorkers: 1, threadsPerWorker: 1, dashboardAddress: null });
if (how === 'ready') await cluster.ready;
process.stdout.write(`${cluster.scheduler.state.workers.size} worker(s)\n`);
await cluster.close();
