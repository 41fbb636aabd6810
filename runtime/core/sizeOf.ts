/**
 * A quick estimate of the bytes a value takes (the distributed scheduler places tasks near their
 * data by it, workers count their memory with it, the debugger caps what it keeps for Step Back): exact for
 * typed arrays, Buffers and strings, sampled for large arrays and objects (the first 64 items),
 * never a serialization.
 */
const SAMPLE = 64;

export function sizeOf(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'string':
      return value.length + 8;
    case 'object':
      break;
    default:
      return 8;
  }
  if (value === null) return 1;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (depth > 3) return 64;
  if (Array.isArray(value)) {
    const n = Math.min(value.length, SAMPLE);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sizeOf(value[i], depth + 1);
    return 16 + (n === 0 ? 0 : (sum / n) * value.length);
  }
  if (value instanceof Map || value instanceof Set) {
    let sum = 0;
    let n = 0;
    for (const v of value.values()) {
      if (n++ >= SAMPLE) break;
      sum += sizeOf(v, depth + 1);
    }
    return 16 + (n === 0 ? 0 : (sum / Math.min(n, SAMPLE)) * value.size);
  }
  const keys = Object.keys(value);
  const n = Math.min(keys.length, SAMPLE);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += keys[i]!.length + sizeOf((value as Record<string, unknown>)[keys[i]!], depth + 1);
  return 16 + (n === 0 ? 0 : (sum / n) * keys.length);
}

/** Bytes for people, in messages: MB under a gigabyte, else GB. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${Math.round(bytes / 1e6)} MB`;
}
