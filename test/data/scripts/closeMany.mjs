// Twelve clients opened, used and closed one after another, the program ending right after the
// last close: nothing may be printed (a nanny writing to a closed channel printed `write EPIPE`).
// Usage: node closeMany.mjs
import { Client } from 'skein/distributed';
import { inc } from '../ops.mjs';

for (let i = 0; i < 12; i++) {
  const client = new Client({ nWorkers: 2, threadsPerWorker: 1, dashboardAddress: null });
  await client.ready;
  if ((await client.submit(inc, i)) !== i + 1) throw new Error('wrong value');
  // half of them closed while a task still runs on a worker
  if (i % 2 === 1) client.options({ pure: false }).submit(inc, i);
  await client.close();
}
process.stdout.write('closed 12\n');
