// A script whose dashboard is open in a browser when its work is done: it must end all the same.
// Prints the dashboard link, then "watched" once a page follows it, then returns from its
// top-level code without closing its client.
import { Client } from 'skein/distributed';
import { inc } from '../ops.mjs';

const client = new Client({ nWorkers: 1 });
console.log(await client.submit(inc, 1));
await client.ready;
console.log(client.dashboardLink);
while (client.cluster.dashboard.watching === 0) await new Promise((resolve) => setTimeout(resolve, 20));
console.log('watched');
