/**
 * `tokenize`: a deterministic short hash of a value, for automatic delayed keys
 * (`inc-3f2a9c1b0d4e5f67`). Equal inputs give equal tokens within and across runs, as long as
 * functions keep their source text. Objects Skein cannot look into (class instances other than
 * the usual built-ins) are told apart by identity, which is stable only within one process.
 */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
const functionTokens = new WeakMap<Function, string>();

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
 * A function is known by identity: two closures with the same source but different captured
 * values (`x => x + n`) are different functions, and so are two bound functions. The same
 * function object always gets the same token.
 */
function functionToken(fn: Function): string {
  let token = functionTokens.get(fn);
  if (token === undefined) {
    token = `f:${fn.name}:${nextObjectId++}:${hashString(Function.prototype.toString.call(fn))}`;
    functionTokens.set(fn, token);
  }
  return token;
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
    case 'function':
      out.push(functionToken(value));
      return;
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
    out.push('M{');
    for (const [k, v] of obj) {
      write(k, out, keyOf, seen);
      write(v, out, keyOf, seen);
    }
    out.push('}');
  } else if (obj instanceof Set) {
    out.push('S{');
    for (const v of obj) write(v, out, keyOf, seen);
    out.push('}');
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
}

/** Hash of `values`; `keyOf` names objects that stand for a key (delayed values). */
export function tokenize(values: readonly unknown[], keyOf: (v: object) => string | undefined = () => undefined): string {
  const out: string[] = [];
  const seen = new Set<object>(); // objects already written: a cyclic argument ends, not overflows
  for (const v of values) write(v, out, keyOf, seen);
  return hashString(out.join('\u0001'));
}
