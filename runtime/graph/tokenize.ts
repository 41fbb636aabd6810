/**
 * `tokenize`: a deterministic short hash of a value, for automatic delayed keys
 * (`inc-3f2a9c1b0d4e5f67`). A token depends only on what is tokenized, never on what was
 * tokenized before it: equal inputs give equal tokens within a run, across runs and in every
 * process and thread (pure keys name the same task in a worker and in the next run). Sets and
 * Maps are tokenized by their members sorted (insertion order does not count), as Dask sorts a
 * set. Objects Skein cannot look into (class instances other than the usual built-ins) are told
 * apart by identity, which holds only within one process.
 */
import { sourceVerdictSync } from '../loader/lambda.js';

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
const functionTokens = new WeakMap<Function, string>();
/** Functions that close over variables, by their name and source: the objects seen, in the order first seen. */
const capturingBySource = new Map<string, Array<WeakRef<Function>>>();

/** Two 32-bit FNV-1a passes with different offsets: 64 bits, as 16 hex digits. */
export function hashString(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/**
 * A function by its name and source: two functions of the same source that close over nothing
 * are the same function. One that closes over variables (a module's function using its imports,
 * `x => x + n` made by a factory) is also told by which object of that source it is: the first
 * one a process sees is 0 (so a module's function has the same token in every process and
 * thread), another closure of the same source 1, and so on, as their captured values may differ.
 * Native and bound functions have no source to tell them by: identity, within the process.
 */
function functionToken(fn: Function): string {
  let token = functionTokens.get(fn);
  if (token === undefined) {
    const source = Function.prototype.toString.call(fn);
    const named = `${fn.name}:${hashString(source)}`;
    let verdict: ReturnType<typeof sourceVerdictSync>;
    try {
      verdict = sourceVerdictSync(fn);
    } catch {
      verdict = { captures: [] }; // no parser here: told by identity below
    }
    if ('source' in verdict) token = `f:${named}`;
    else if (verdict.captures.length === 0) token = `f:${named}:#${nextObjectId++}`;
    else {
      let seen = capturingBySource.get(named);
      if (seen === undefined) capturingBySource.set(named, (seen = []));
      let index = seen.findIndex((ref) => ref.deref() === fn);
      if (index < 0) index = seen.push(new WeakRef(fn)) - 1;
      token = `f:${named}:${index}`;
    }
    functionTokens.set(fn, token);
  }
  return token;
}

/** Tokens of `values` each on its own, sorted: a Set's or a Map's entries in any order give one token. */
function sortedTokens(values: Iterable<unknown>, keyOf: (v: object) => string | undefined, seen: Set<object>): string[] {
  const tokens: string[] = [];
  for (const v of values) {
    const out: string[] = [];
    write(v, out, keyOf, seen);
    tokens.push(out.join('\u0001'));
  }
  return tokens.sort();
}

function write(value: unknown, out: string[], keyOf: (v: object) => string | undefined, seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case 'string':
      out.push('s', JSON.stringify(value));
      return;
    case 'number':
      out.push('number', Object.is(value, -0) ? '-0' : String(value));
      return;
    case 'boolean':
    case 'undefined':
      out.push(typeof value, String(value));
      return;
    case 'bigint':
      out.push('n', value.toString());
      return;
    case 'symbol':
      out.push('y', String(value.description));
      return;
    case 'function': {
      // (an attribute of a delayed value is a callable Delayed: it stands for its key)
      const key = keyOf(value);
      out.push(...(key === undefined ? [functionToken(value)] : ['k', key]));
      return;
    }
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const obj = value as object;
  const key = keyOf(obj);
  if (key !== undefined) {
    out.push('k', key);
    return;
  }
  if (seen.has(obj)) {
    out.push('cycle');
    return;
  }
  seen.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (const v of obj) write(v, out, keyOf, seen);
    out.push(']');
  } else if (ArrayBuffer.isView(obj)) {
    const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
    out.push(obj.constructor.name, hashString(Buffer.from(bytes).toString('latin1')));
  } else if (obj instanceof Date) {
    out.push('D', String(obj.getTime()));
  } else if (obj instanceof Map) {
    out.push('M{', ...sortedTokens(obj, keyOf, seen), '}');
  } else if (obj instanceof Set) {
    out.push('S{', ...sortedTokens(obj, keyOf, seen), '}');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto === Object.prototype || proto === null) {
      out.push('{');
      for (const k of Object.keys(obj).sort()) {
        out.push(k);
        write((obj as Record<string, unknown>)[k], out, keyOf, seen);
      }
      out.push('}');
    } else {
      let id = objectIds.get(obj);
      if (id === undefined) objectIds.set(obj, (id = nextObjectId++));
      out.push('o', String(id));
    }
  }
  // only the objects being written (its ancestors) make a cycle: the same object twice side by side is written twice
  seen.delete(obj);
}

/** Hash of `values`; `keyOf` names objects that stand for a key (delayed values). */
export function tokenize(values: readonly unknown[], keyOf: (v: object) => string | undefined = () => undefined): string {
  const out: string[] = [];
  const seen = new Set<object>(); // objects already written: a cyclic argument ends, not overflows
  for (const v of values) write(v, out, keyOf, seen);
  return hashString(out.join('\u0001'));
}
