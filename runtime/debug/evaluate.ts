/**
 * Expressions typed in the debug console, watch expressions and breakpoint conditions, evaluated
 * against the paused task: they see its inputs (by parameter name), `args`, `result` (the task's
 * own result when paused after it ran, else the last result), `results` (every held result by key) and each held key that is an identifier. Only
 * the identifiers the expression mentions are looked up: the cost is the expression's, not the
 * graph's.
 */
import { parameterNames } from './variables.js';

export interface EvaluationContext {
  /** The paused task's function (undefined for a value that only mentions keys). */
  readonly fn: Function | undefined;
  /** The arguments it will be called with; undefined when nothing is paused. */
  readonly args: unknown[] | undefined;
  /** The last task's result. */
  readonly last: unknown;
  /** Paused after the task ran (a result breakpoint): its own result, which `result` then names. */
  readonly own?: { readonly value: unknown };
  /** The held result of a key, or undefined when none is held. */
  held(key: string): { value: unknown } | undefined;
}

export function evaluateExpression(expression: string, ctx: EvaluationContext): unknown {
  const named: Record<string, unknown> = {};
  const { args } = ctx;
  if (args !== undefined) {
    const names = ctx.fn !== undefined ? parameterNames(ctx.fn) : ['value'];
    names.forEach((name, i) => {
      if (name.startsWith('...')) named[name.slice(3)] = args.slice(i);
      else named[name] = args[i];
    });
  }
  const results = new Proxy({} as Record<string, unknown>, {
    get: (_target, key) => (typeof key === 'string' ? ctx.held(key)?.value : undefined),
    has: (_target, key) => typeof key === 'string' && ctx.held(key) !== undefined,
  });
  // parameter names first (`b === 2`), then the fixed names, then held keys the expression mentions
  const scope: Record<string, unknown> = { ...named, inputs: named, args: args ?? [], result: ctx.own !== undefined ? ctx.own.value : ctx.last, results };
  for (const id of new Set(expression.match(/[A-Za-z_$][\w$]*/g) ?? [])) {
    if (id in scope) continue;
    const held = ctx.held(id);
    if (held !== undefined) scope[id] = held.value;
  }
  const names = Object.keys(scope);
  const fn = new Function(...names, `"use strict"; return (${expression});`) as (...a: unknown[]) => unknown;
  return fn(...names.map((n) => scope[n]));
}

/** A breakpoint condition: true when it holds, or when it throws (the stop shows what is wrong). */
export function conditionHolds(condition: string, ctx: EvaluationContext): boolean {
  try {
    return Boolean(evaluateExpression(condition, ctx));
  } catch {
    return true;
  }
}

/** A breakpoint whose condition mentions `result` stops after its task ran, on the task's own result. */
export function isResultCondition(condition: string | undefined): boolean {
  return condition !== undefined && /(^|[^\w$.])result\b/.test(condition);
}
