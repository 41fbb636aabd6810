/**
 * Values shown as DAP variables: short previews, expandable objects and arrays (large arrays
 * paged through `indexedVariables`), and a handle table that lives until the run resumes.
 */
import { inspect } from 'node:util';
import type { VariableInfo } from './protocol.js';

export type Container =
  | { readonly kind: 'value'; readonly value: unknown; readonly evaluateName?: string }
  | { readonly kind: 'list'; readonly items: readonly VariableInfo[] }
  | { readonly kind: 'lazy'; readonly items: () => VariableInfo[] };

/** Handles for expandable values; cleared every time the run resumes. */
export class Handles {
  #next = 1;
  #items = new Map<number, Container>();

  add(container: Container): number {
    const id = this.#next++;
    this.#items.set(id, container);
    return id;
  }

  get(id: number): Container | undefined {
    return this.#items.get(id);
  }

  reset(): void {
    this.#items.clear(); // ids keep growing, so a stale reference from before never finds a new value
  }
}

function expandable(value: unknown): boolean {
  return value !== null && typeof value === 'object';
}

export function preview(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return inspect(value, { depth: 1, maxArrayLength: 5, maxStringLength: 60, breakLength: Infinity, compact: true }).slice(0, 300);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}

function indexedCount(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return (value as unknown as ArrayLike<unknown>).length;
  if (value instanceof Set || value instanceof Map) return value.size;
  return undefined;
}

/** A variable for `value`, registering a handle when it can be expanded. */
export function variable(handles: Handles, name: string, value: unknown, evaluateName?: string): VariableInfo {
  const ref = expandable(value) ? handles.add({ kind: 'value', value, evaluateName }) : 0;
  const indexed = indexedCount(value);
  return {
    name,
    value: preview(value),
    type: typeName(value),
    variablesReference: ref,
    ...(indexed !== undefined && ref !== 0 ? { indexedVariables: indexed } : {}),
    ...(evaluateName !== undefined ? { evaluateName } : {}),
  };
}

/** The children of an expandable value; indexed children paged by `start`/`count`. */
export function children(handles: Handles, container: Container, filter?: 'indexed' | 'named', start = 0, count?: number): VariableInfo[] {
  if (container.kind === 'list') return [...container.items];
  if (container.kind === 'lazy') return container.items();
  const { value, evaluateName } = container;
  const path = (suffix: string): string | undefined => (evaluateName === undefined ? undefined : `${evaluateName}${suffix}`);
  const indexed = indexedCount(value);
  const out: VariableInfo[] = [];
  if (indexed !== undefined && filter !== 'named') {
    const end = Math.min(indexed, count === undefined ? indexed : start + count);
    if (value instanceof Map) {
      const entries = [...value.entries()];
      for (let i = start; i < end; i++) out.push(variable(handles, String(entries[i]![0]), entries[i]![1]));
    } else if (value instanceof Set) {
      const items = [...value];
      for (let i = start; i < end; i++) out.push(variable(handles, String(i), items[i]));
    } else {
      const list = value as ArrayLike<unknown>;
      for (let i = start; i < end; i++) out.push(variable(handles, String(i), list[i], path(`[${i}]`)));
    }
    if (filter === 'indexed' || Array.isArray(value) || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return out;
  }
  if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      const name = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
      out.push(variable(handles, k, (value as Record<string, unknown>)[k], path(name)));
    }
  }
  return out;
}

/** Parameter names of a function, from its source (`(rows, factor = 2)` → rows, factor). */
export function parameterNames(fn: Function): string[] {
  const source = Function.prototype.toString.call(fn);
  let list: string;
  const arrow = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (arrow) list = arrow[1]!;
  else {
    const open = source.indexOf('(');
    if (open < 0) return [];
    let depth = 0;
    let close = open;
    for (let i = open; i < source.length; i++) {
      const c = source[i];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    }
    list = source.slice(open + 1, close);
  }
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of `${list},`) {
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      if (current.trim() !== '') {
        const m = /^\s*(\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(current);
        names.push(m ? `${m[1] ?? ''}${m[2]}` : `arg${names.length}`);
      }
      current = '';
    } else current += c;
  }
  return names;
}
