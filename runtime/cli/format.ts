/**
 * How the CLI prints results: readable on a terminal (large values truncated, with their
 * size), or as JSON where every value has a faithful JSON form.
 */
import { inspect } from 'node:util';

/** `util.inspect` with limits, so a million-element result prints as a few lines. */
export function formatValue(value: unknown, colors: boolean): string {
  const text = inspect(value, { depth: 4, colors, maxArrayLength: 20, maxStringLength: 200, breakLength: 100 });
  if (text.length <= 2000) return text;
  return `${text.slice(0, 2000)}… (${text.length} characters in all)`;
}

/** JSON.stringify replacer: bigint as string, Map as object, Set and typed arrays as arrays. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined) return null;
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
