/**
 * A worker's results, in memory or spilled to disk (Dask's `SpillBuffer`). Values are kept in
 * least-recently-used order; `spill(bytes)` writes the oldest to files in a folder of the
 * worker's own (v8 serialization, as they travel) and forgets them in memory; reading a spilled
 * key brings it back (and makes it the newest). What each holds is counted: `managed` bytes in
 * memory, `spilled` bytes on disk, by the same estimate the scheduler places tasks with.
 *
 * A value that cannot be written (the disk is full, a value v8 cannot serialize) stays in memory,
 * and the store says why once (`lastError`); nothing is lost.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { WireValue } from './protocol.js';

interface Spilled {
  readonly file: string;
  readonly bytes: number;
  /** A typed array written as its bytes (no serialized copy): its type and the rest of its WireValue. */
  readonly raw?: { readonly type: string; readonly rest: Omit<WireValue, 'value'> };
}

/** Typed arrays a spill writes as they are. */
const TYPED: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  Uint8Array, Int8Array, Uint8ClampedArray, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

/** A spilled file read back as the value it was. */
function readBack(spilled: Spilled): WireValue {
  const data = readFileSync(spilled.file);
  if (spilled.raw === undefined) return deserialize(data) as WireValue;
  const Ctor = TYPED[spilled.raw.type]!;
  const bytes = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  // a big file is read into a buffer of its own: viewed as the array it was, not copied
  return { ...spilled.raw.rest, value: new Ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / bytes) };
}

export class DataStore {
  /** In memory, least recently used first (a Map keeps insertion order; a use re-inserts). */
  readonly #memory = new Map<string, { value: WireValue; bytes: number }>();
  readonly #disk = new Map<string, Spilled>();
  #dir: string | undefined;
  #files = 0;
  managed = 0;
  spilled = 0;
  /** Bytes written to disk and read back, over the store's life. */
  spilledTotal = 0;
  unspilledTotal = 0;
  /** Bytes read from disk to send, over the store's life. */
  peekedTotal = 0;
  /** Why the last spill failed, if one did. */
  lastError: string | undefined;

  constructor(readonly name: string) {}

  get size(): number {
    return this.#memory.size + this.#disk.size;
  }

  has(key: string): boolean {
    return this.#memory.has(key) || this.#disk.has(key);
  }

  *keys(): IterableIterator<string> {
    yield* this.#memory.keys();
    yield* this.#disk.keys();
  }

  /** The value of `key` (read back from disk when it was spilled); undefined when not held. */
  get(key: string): WireValue | undefined {
    const held = this.#memory.get(key);
    if (held !== undefined) {
      // the newest now: the last to be spilled
      this.#memory.delete(key);
      this.#memory.set(key, held);
      return held.value;
    }
    const spilled = this.#disk.get(key);
    if (spilled === undefined) return undefined;
    const value = readBack(spilled);
    this.#forgetFile(key, spilled);
    this.unspilledTotal += spilled.bytes;
    this.#memory.set(key, { value, bytes: spilled.bytes });
    this.managed += spilled.bytes;
    return value;
  }

  /** The value of `key` without bringing it back into memory (to send it: a spilled value stays spilled). */
  peek(key: string): WireValue | undefined {
    const held = this.#memory.get(key);
    if (held !== undefined) return held.value;
    const spilled = this.#disk.get(key);
    if (spilled === undefined) return undefined;
    this.peekedTotal += spilled.bytes;
    return readBack(spilled);
  }

  /** The bytes `key` takes (0 when not held). */
  bytes(key: string): number {
    return this.#memory.get(key)?.bytes ?? this.#disk.get(key)?.bytes ?? 0;
  }

  set(key: string, value: WireValue, bytes: number): void {
    this.delete(key);
    this.#memory.set(key, { value, bytes });
    this.managed += bytes;
  }

  delete(key: string): void {
    const held = this.#memory.get(key);
    if (held !== undefined) {
      this.#memory.delete(key);
      this.managed -= held.bytes;
    }
    const spilled = this.#disk.get(key);
    if (spilled !== undefined) this.#forgetFile(key, spilled);
  }

  /** Writes the least recently used values to disk until `bytes` are out of memory (or none is left); the bytes freed. */
  spill(bytes: number): number {
    let freed = 0;
    for (const [key, held] of this.#memory) {
      if (freed >= bytes) break;
      try {
        this.#dir ??= makeDir(this.name);
        const file = join(this.#dir, String(++this.#files));
        const { value, ...rest } = held.value;
        const type = ArrayBuffer.isView(value) ? value.constructor.name : '';
        if (Object.hasOwn(TYPED, type) && !(value as ArrayBufferView).buffer.constructor.name.startsWith('Shared')) {
          // a typed array (a Buffer is one): its bytes as they are, no serialized copy
          writeFileSync(file, value as Uint8Array);
          this.#disk.set(key, { file, bytes: held.bytes, raw: { type, rest } });
        } else {
          writeFileSync(file, serialize(held.value));
          this.#disk.set(key, { file, bytes: held.bytes });
        }
      } catch (error) {
        this.lastError = `could not spill ${JSON.stringify(key)} to disk: ${error instanceof Error ? error.message : String(error)}`;
        return freed; // kept in memory; the next try may do better (the disk may have room again)
      }
      this.#memory.delete(key);
      this.managed -= held.bytes;
      this.spilled += held.bytes;
      this.spilledTotal += held.bytes;
      freed += held.bytes;
    }
    return freed;
  }

  clear(): void {
    this.#memory.clear();
    this.#disk.clear();
    this.managed = 0;
    this.spilled = 0;
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  #forgetFile(key: string, spilled: Spilled): void {
    this.#disk.delete(key);
    this.spilled -= spilled.bytes;
    try {
      unlinkSync(spilled.file);
    } catch {
      // gone already: nothing to free
    }
  }
}

/** The spill folder of worker `name` in process `pid` (its supervisor removes it if the process dies). */
export function spillDir(name: string, pid: number): string {
  return join(tmpdir(), `skein-spill-${name.replace(/[^\w.-]/g, '_')}-${pid}`);
}

/** The folder of worker `name` in process `pid` for its plugins and uploaded modules (its supervisor removes it if the process dies). */
export function localDir(name: string, pid: number): string {
  return join(tmpdir(), `skein-worker-${name.replace(/[^\w.-]/g, '_')}-${pid}`);
}

/** The worker's spill folder: in the system's temporary folder, its name and process id in the name. */
function makeDir(name: string): string {
  const dir = spillDir(name, process.pid);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
