// A graph for the debugger tests: a chain, a diamond, a task that prints, and a task that fails
// unless its input is fixed.
//
//   start ─▶ double-1 ─┬─▶ add-1 ─┐
//                      └─▶ add-2 ─┴─▶ total ─▶ check
export function double(x: number): number {
  const y = x * 2;
  return y;
}

export function add(a: number, b: number): number {
  console.log(`adding ${a} and ${b}`);
  return a + b;
}

export function total(...parts: number[]): number {
  return parts.reduce((s, p) => s + p, 0);
}

export function check(value: number): number {
  if (value > 80) throw new RangeError(`value ${value} is too large`);
  return value;
}

export default {
  start: 21,
  'double-1': [double, 'start'],
  'add-1': [add, 'double-1', 1],
  'add-2': [add, 'double-1', 2],
  total: [total, 'add-1', 'add-2'],
  check: [check, 'total'],
};
