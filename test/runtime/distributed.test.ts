// The behaviour suite on the distributed scheduler, with worker processes and with in-process
// workers: the default client runs get and compute.
import { after, before, describe } from 'node:test';
import { Client } from 'skein/distributed';
import { behaviourSuite } from './behaviour.js';

for (const processes of [true, false]) {
  describe(`distributed (processes: ${processes})`, () => {
    let client: Client;
    before(async () => {
      client = new Client({ processes, nWorkers: 2, threadsPerWorker: 1, validate: true });
      await client.ready;
    });
    after(async () => {
      await client.close();
    });
    behaviourSuite('distributed', {}, `distributed, processes: ${processes}`);
  });
}
