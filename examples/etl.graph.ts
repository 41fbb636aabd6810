// An ETL graph: load sales per region, clean them, compute two figures per region (a diamond:
// both read the cleaned rows, one task joins them), then reduce everything into one report.
//
//   load-R ─▶ clean-R ─┬─▶ revenue-R ─┬─▶ stats-R ──┐
//                      └─▶ units-R ───┘             ├─▶ report
//                          revenue-* ─▶ total ──────┘
//
// Run it:  npx skein run examples/etl.graph.ts            (threads, the default)
//          npx skein run examples/etl.graph.ts --scheduler sync --json

export interface Sale {
  region: string;
  day: number;
  units: number;
  price: number;
}

export interface RegionStats {
  region: string;
  revenue: number;
  units: number;
  averagePrice: number;
}

/** Deterministic pseudo-random sales for one region (stands in for reading a CSV file). */
export function load(region: string, days: number): Sale[] {
  let seed = [...region].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261) >>> 0;
  const next = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const rows: Sale[] = [];
  for (let day = 1; day <= days; day++) {
    for (let i = 0; i < 20; i++) {
      // every 25th row is broken on purpose: negative units, as real exports have
      const units = rows.length % 25 === 24 ? -1 : 1 + Math.floor(next() * 9);
      rows.push({ region, day, units, price: Math.round((5 + next() * 45) * 100) / 100 });
    }
  }
  return rows;
}

/** Drops rows with impossible values. */
export function clean(rows: Sale[]): Sale[] {
  return rows.filter((r) => r.units > 0 && r.price > 0);
}

export function revenue(rows: Sale[]): number {
  return Math.round(rows.reduce((sum, r) => sum + r.units * r.price, 0) * 100) / 100;
}

export function units(rows: Sale[]): number {
  return rows.reduce((sum, r) => sum + r.units, 0);
}

export function regionStats(region: string, revenue: number, units: number): RegionStats {
  return { region, revenue, units, averagePrice: Math.round((revenue / units) * 100) / 100 };
}

export function sum(...values: number[]): number {
  return Math.round(values.reduce((a, b) => a + b, 0) * 100) / 100;
}

export function report(input: { total: number; regions: RegionStats[] }): { total: number; best: string; regions: RegionStats[] } {
  const best = input.regions.reduce((a, b) => (b.revenue > a.revenue ? b : a));
  return { total: input.total, best: best.region, regions: input.regions };
}

const regions = ['north', 'south', 'east', 'west'];
const graph: Record<string, unknown> = {};
for (const r of regions) {
  graph[`load-${r}`] = [load, r, 90];
  graph[`clean-${r}`] = [clean, `load-${r}`];
  graph[`revenue-${r}`] = [revenue, `clean-${r}`];
  graph[`units-${r}`] = [units, `clean-${r}`];
  graph[`stats-${r}`] = [regionStats, r, `revenue-${r}`, `units-${r}`];
}
graph.total = [sum, ...regions.map((r) => `revenue-${r}`)];
graph.report = [report, { total: 'total', regions: regions.map((r) => `stats-${r}`) }];

export default graph;
