// Test hosts on one machine: network namespaces joined by a bridge (iproute2), each with an
// address of its own, and this process (the "laptop") on the bridge too. Needs root.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

export interface Hosts {
  /** The namespaces' names and addresses, in order. */
  readonly hosts: ReadonlyArray<{ readonly ns: string; readonly ip: string; readonly link: string }>;
  /** Runs `command` in host `i`'s namespace. */
  spawnIn(i: number, command: string, args: readonly string[], options?: Parameters<typeof spawn>[2]): ChildProcess;
  /** Cuts (or restores) host `i`'s link to the bridge. */
  link(i: number, up: boolean): void;
  remove(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** `n` hosts 10.77.S.1 … 10.77.S.n on a bridge where this process is 10.77.S.254 (S: from the pid, so parallel runs differ). */
export function makeHosts(n: number): Hosts {
  const tag = (process.pid % 200) + 20;
  const bridge = `skbr${tag}`;
  const hosts = Array.from({ length: n }, (_, i) => ({ ns: `skein-${tag}-h${i + 1}`, ip: `10.77.${tag}.${i + 1}`, link: `sk${tag}h${i + 1}` }));
  const remove = (): void => {
    for (const h of hosts) spawnSync('ip', ['netns', 'del', h.ns], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  };
  remove();
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `10.77.${tag}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const h of hosts) {
      ip('netns', 'add', h.ns);
      ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', `${h.link}p`);
      ip('link', 'set', `${h.link}p`, 'netns', h.ns);
      ip('link', 'set', h.link, 'master', bridge);
      ip('link', 'set', h.link, 'up');
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      ip('-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', `${h.link}p`);
      ip('-n', h.ns, 'link', 'set', `${h.link}p`, 'up');
    }
  } catch (error) {
    remove();
    throw error;
  }
  return {
    hosts,
    spawnIn: (i, command, args, options = {}) => spawn('ip', ['netns', 'exec', hosts[i]!.ns, command, ...args], options),
    link: (i, up) => ip('link', 'set', hosts[i]!.link, up ? 'up' : 'down'),
    remove,
  };
}
