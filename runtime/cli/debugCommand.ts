/** The line a failed run ends with: the command that stops a debugger at the task that failed. */
import type { Key } from '../graph/spec.js';

/** A word as a POSIX shell reads it: as it is when plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `skein debug <file> --key <key>`, quoted for a shell. */
export function debugCommand(file: string, key: Key): string {
  return `skein debug ${shellWord(file)} --key ${shellWord(String(key))}`;
}
