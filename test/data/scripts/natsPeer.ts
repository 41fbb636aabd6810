// Connects to a NATS transport listener (argv: the NATS url, the listener's address), says
// "connected" and waits to be killed: the other end of the liveness test.
import { natsTransport } from '../../../runtime/distributed/natsComm.js';

const [url, address] = process.argv.slice(2) as [string, string];
const comm = await natsTransport(url, '', { livenessMs: 500 }).connect<unknown, unknown>(address);
comm.send('hello');
process.stdout.write('connected\n');
setInterval(() => undefined, 1 << 30);
