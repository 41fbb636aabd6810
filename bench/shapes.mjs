// The graph shapes every benchmark uses, built from trivial exported functions so that every
// scheduler (threads and processes too) can run them.
export const inc = (x) => x + 1;
export const add = (a, b) => a + b;
export const sum = (...xs) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};
export const spin = (ms) => {
  // ~ms of pure JavaScript arithmetic
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) % 1000003;
  return x;
};

/** 10,000 independent tasks plus one that depends on all. */
export function wide(n = 10_000) {
  const g = {};
  for (let i = 0; i < n; i++) g[`inc-${i}`] = [inc, i];
  g.total = [sum, ...Object.keys(g)];
  return { graph: g, key: 'total', tasks: n + 1 };
}

/** A chain of n tasks. */
export function chain(n = 2_000) {
  const g = { 'inc-0': [inc, 0] };
  for (let i = 1; i < n; i++) g[`inc-${i}`] = [inc, `inc-${i - 1}`];
  return { graph: g, key: `inc-${n - 1}`, tasks: n };
}

/** Binary tree reduction over `leaves` leaves. */
export function tree(leaves = 4_096) {
  const g = {};
  let level = [];
  for (let i = 0; i < leaves; i++) {
    g[`leaf-${i}`] = [inc, i];
    level.push(`leaf-${i}`);
  }
  let depth = 0;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      const key = `add-${depth}-${i / 2}`;
      g[key] = [add, level[i], level[i + 1]];
      next.push(key);
    }
    level = next;
    depth++;
  }
  return { graph: g, key: level[0], tasks: Object.keys(g).length };
}

/** One source, n tasks that read it, one task that reads them all. */
export function fan(n = 1_000) {
  const g = { source: [inc, 0] };
  for (let i = 0; i < n; i++) g[`mid-${i}`] = [add, 'source', i];
  g.total = [sum, ...Array.from({ length: n }, (_, i) => `mid-${i}`)];
  return { graph: g, key: 'total', tasks: n + 2 };
}

/** n independent tasks, grouped by partial sums so no call has a million arguments. */
export function million(n = 1_000_000, groupSize = 1_000) {
  const g = {};
  const partials = [];
  for (let p = 0; p * groupSize < n; p++) {
    const keys = [];
    for (let i = p * groupSize; i < Math.min(n, (p + 1) * groupSize); i++) {
      g[`inc-${i}`] = [inc, i];
      keys.push(`inc-${i}`);
    }
    g[`part-${p}`] = [sum, ...keys];
    partials.push(`part-${p}`);
  }
  g.total = [sum, ...partials];
  return { graph: g, key: 'total', tasks: Object.keys(g).length };
}
