/**
 * The shared secret of a scheduler started by hand (`skein scheduler`): every connection to it
 * opens with this secret. It lives in a file only this user can read, so workers started by the
 * same user on the same machine find it without it ever appearing in a command line or a log;
 * `--secret-file` names another file (on a shared filesystem, for other machines).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function secretDir(): string {
  return join(tmpdir(), `skein-cluster-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
}

/** Where `skein scheduler` keeps the secret of the scheduler at `address` by default. */
export function defaultSecretFile(address: string): string {
  return join(secretDir(), `${address.replace(/^[a-z]+:\/\//, '').replace(/[^\w.-]+/g, '_')}.secret`);
}

/** A new random secret. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Writes `secret` to `file`, readable by this user only. */
export function writeSecret(file: string, secret: string): void {
  const dir = secretDir();
  if (file.startsWith(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    if ((typeof process.getuid === 'function' && info.uid !== process.getuid()) || (info.mode & 0o077) !== 0) {
      throw new Error(`${dir} is not a folder only you can read; remove it, or give --secret-file`);
    }
  }
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
}

/** The secret in `file`; an error that says how to get it when there is none. */
export function readSecret(file: string, address: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`No secret for the scheduler at ${address} in ${file}. Start the scheduler with skein scheduler on this machine, or give the file it wrote with --secret-file.`);
  }
}
