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

/** A port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startNatsServer(options: { token?: string; extra?: readonly string[] } = {}): Promise<NatsServer & { restart(downMs: number): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'skein-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...(options.token ? ['--auth', options.token] : []), ...(options.extra ?? [])];
  let said = '';
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const before = said.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${said}`)), 10_000);
      child.once('error', (error) => reject(new Error(`cannot start nats-server (node scripts/setup-tests.mjs --debian installs it): ${error.message}`)));
      child.stderr!.on('data', (d: Buffer) => {
        said += d.toString();
        if (said.indexOf('Server is ready', before) >= 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return child;
  };
  let child = await launch();
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  };
  return {
    url: `nats://${options.token ? `${options.token}@` : ''}127.0.0.1:${port}`,
    port,
    get process() {
      return child;
    },
    said: () => said,
    /** Killed (SIGKILL), and started again on the same port and store after `downMs`. */
    restart: async (downMs: number) => {
      await kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A NATS cluster of `n` servers on loopback (routes between them, JetStream on each), each killable alone. */
export async function startNatsCluster(n: number): Promise<{ servers: Array<NatsServer & { readonly name: string }>; stop(): Promise<void> }> {
  const clusterPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const servers = await Promise.all(
    clusterPorts.map(async (cp, i) => ({
      name: `s${i + 1}`,
      ...(await startNatsServer({ extra: ['--server_name', `s${i + 1}`, '--cluster_name', 'skein-test', '--cluster', `nats://127.0.0.1:${cp}`, '--routes', routes] })),
    })),
  );
  return {
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
