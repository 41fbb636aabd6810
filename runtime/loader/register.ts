/**
 * Installs Skein's module hooks (see hooks.ts) once per thread, and turns on source maps so
 * stack traces show the user's TypeScript lines. Call before importing a graph file.
 */
import { register } from 'node:module';

let done = false;

/** URL of a sibling file in the built runtime directory (dist/runtime/). */
export function runtimeFile(name: string): string {
  return new URL(`./${name}`, import.meta.url).href;
}

export function registerLoader(): void {
  if (done) return;
  done = true;
  process.setSourceMapsEnabled(true);
  register(runtimeFile('loaderHooks.js'), {
    data: { aliases: { skein: runtimeFile('index.js'), 'skein/core': runtimeFile('core.js') } },
  });
}
