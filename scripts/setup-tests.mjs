// Installs what the tests need, once (idempotent; a marker file records success):
//   - Debian's nats-server (the NATS transport's tests start their own, on loopback, and a
//     cluster of three in network namespaces made with iproute2's ip), faketime, and SLURM
//     (slurmctld, slurmd, slurm-client, munge: the SlurmCluster test starts a single-node one);
//   - Debian's chromium (headless browser that drives the VS Code web workbench) and the
//     packages code-server's native modules build against (libkrb5-dev, ripgrep);
//   - code-server 4.96.4 (VS Code 1.96.4) from npm into .vscode-test/cs, with the three offline
//     workarounds: the proxy-agent dependency resolved from the npm registry, ripgrep taken from
//     Debian instead of downloaded, native modules rebuilt against Node's own headers.
// Usage: node scripts/setup-tests.mjs   (npm test runs it; --debian: only the Debian packages)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CODE_SERVER_VERSION = '4.96.4';
const dir = join(root, '.vscode-test', 'cs');
const marker = join(dir, `.installed-${CODE_SERVER_VERSION}`);

function run(command, args, options = {}) {
  process.stderr.write(`$ ${command} ${args.join(' ')}\n`);
  const r = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${r.status ?? r.signal}`);
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function debianPackages() {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!has('nats-server')) missing.push('nats-server');
  if (!has('ip')) missing.push('iproute2'); // test hosts in network namespaces
  if (!has('faketime')) missing.push('faketime'); // workers whose clocks are off
  // a single-node SLURM the SlurmCluster test starts (as root): controller, node daemon, client commands, munge
  for (const [command, pkg] of [['slurmctld', 'slurmctld'], ['slurmd', 'slurmd'], ['sbatch', 'slurm-client'], ['munged', 'munge']]) if (!has(command)) missing.push(pkg);
  if (!has('rg')) missing.push('ripgrep');
  if (spawnSync('dpkg', ['-s', 'libkrb5-dev'], { stdio: 'ignore' }).status !== 0) missing.push('libkrb5-dev');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`);
  run('apt-get', ['update', '-q']);
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function codeServer() {
  if (existsSync(marker)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private": true}\n');
  run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir });
  const shrinkwrap = join(dir, 'node_modules/code-server/lib/vscode/npm-shrinkwrap.json');
  if (existsSync(shrinkwrap)) {
    const text = readFileSync(shrinkwrap, 'utf8').replace(
      /"resolved": "git\+ssh:\/\/git@github\.com\/microsoft\/vscode-proxy-agent\.git#[0-9a-f]*"/g,
      '"resolved": "https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-0.27.0.tgz"',
    );
    writeFileSync(shrinkwrap, text);
  }
  // @vscode/ripgrep's postinstall downloads rg; give it Debian's in the cache it looks in first
  const tmp = join(dir, '.tmp');
  const cache = join(tmp, 'vscode-ripgrep-cache-1.15.9');
  mkdirSync(join(cache, 'x'), { recursive: true });
  cpSync(execFileSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).trim(), join(cache, 'x', 'rg'));
  run('tar', ['czf', join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', join(cache, 'x'), 'rg']);
  run('npm', ['rebuild'], { cwd: dir, env: { ...process.env, TMPDIR: tmp, npm_config_unsafe_perm: 'true', npm_config_nodedir: '/usr' } });
  writeFileSync(marker, new Date().toISOString());
}

debianPackages();
if (!process.argv.includes('--debian')) codeServer();
process.stderr.write('Test dependencies are ready.\n');
