// Line breakpoints on the lines that define tasks, as the language server reads the file: a task
// written over several lines, keys made in a loop, an assignment, and a task commented out.
export function load(region: string): number {
  return region.length;
}
export function sum(...xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

const regions = ['north', 'south'].filter(Boolean);
const graph: Record<string, unknown> = {
  report: [
    sum,
    'load-north',
    'load-south',
  ],
  // 'old-report': [sum, 'load-north'],
};
for (const r of regions) {
  graph[`load-${r}`] = [load, r];
}
graph.extra = [sum, 'report', 1];
export default graph;
