// A nats-server of the test's own (Debian's package, installed by scripts/setup-tests.mjs), on a
// free loopback port, in a temporary folder, stopped by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  /** nats://127.0.0.1:PORT (with the token, when there is one). */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** What it has written to stderr so far. */
  said(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startNatsServer(options: { token?: string; extra?: readonly string[] } = {}): Promise<NatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'skein-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...(options.token ? ['--auth', options.token] : []), ...(options.extra ?? [])];
  const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${said}`)), 10_000);
    child.once('error', (error) => reject(new Error(`cannot start nats-server (node scripts/setup-tests.mjs --debian installs it): ${error.message}`)));
    child.stderr!.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    url: `nats://${options.token ? `${options.token}@` : ''}127.0.0.1:${port}`,
    port,
    process: child,
    said: () => said,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

