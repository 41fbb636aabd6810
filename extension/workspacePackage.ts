/**
 * "Skein: Add the Skein Package to This Workspace": a graph file that imports from 'skein' runs
 * without it (the extension supplies the runtime), but the editor's TypeScript then reports
 * "Cannot find module 'skein'" and has no types. This copies the package the extension carries
 * (runtime, CLI, type declarations, and esbuild for TypeScript graph files) into the workspace's
 * node_modules/skein, offline, so types, `npx skein` and `node` scripts all work there. Nothing
 * else in the workspace changes. The copy logic is free of VS Code, for tests.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What goes into node_modules/skein, relative to the extension's folder. */
const PACKAGE_FILES = ['bin', 'dist/runtime', 'dist/types', 'README.md', 'LICENSE'];

/** True when `folder` (a workspace folder) resolves `skein` already. */
export function hasSkeinPackage(folder: string): boolean {
  return existsSync(join(folder, 'node_modules', 'skein', 'package.json'));
}

/** Copies the package the extension carries into `folder`/node_modules/skein; returns that path. */
export function copySkeinPackage(extensionPath: string, folder: string): string {
  const target = join(folder, 'node_modules', 'skein');
  mkdirSync(target, { recursive: true });
  for (const part of PACKAGE_FILES) {
    const from = join(extensionPath, part);
    if (existsSync(from)) cpSync(from, join(target, part), { recursive: true });
  }
  const manifest = JSON.parse(readFileSync(join(extensionPath, 'package.json'), 'utf8')) as Record<string, unknown>;
  const pkg = {
    name: 'skein',
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    type: 'module',
    exports: manifest.exports,
    types: manifest.types,
    bin: manifest.bin,
    engines: { node: (manifest.engines as { node: string }).node },
  };
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // esbuild loads TypeScript graph files; the extension carries it with its native binary
  for (const dep of ['esbuild', '@esbuild/linux-x64']) {
    const from = join(extensionPath, 'node_modules', dep);
    if (existsSync(from)) cpSync(from, join(target, 'node_modules', dep), { recursive: true });
  }
  return target;
}

/** A diagnostic message that says the editor cannot resolve the skein package. */
export function isMissingSkein(message: string): boolean {
  return /Cannot find module 'skein(\/core)?'/.test(message);
}
