// Baseline worker: the same trivial function the Skein shapes use, one call per message.
import { parentPort } from 'node:worker_threads';

export default function inc(x) {
  return x + 1;
}

if (parentPort) {
  parentPort.on('message', (x) => {
    if (typeof x === 'number') parentPort.postMessage(x + 1);
  });
}
