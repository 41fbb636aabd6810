// A graph file for the language server tests: keys defined in the literal and in a loop, a typo
// in a dependency, a cycle, a quoted function name, a duplicate key.
export function load(region) {
  return [region.length];
}
export function clean(rows) {
  return rows;
}
export const total = (...parts) => parts.flat().length;

const graph = {
  'load-north': [load, 'north'],
  'clean-north': [clean, 'load-north'],
  'clean-south': [clean, 'load-soutth'],
  report: [total, 'clean-north', 'clean-south', 'summary'],
  summary: [total, 'report'],
  listed: ['clean', 'load-north'],
  'clean-north': [clean, 'load-north'],
};
for (const r of ['south', 'east']) graph[`load-${r}`] = [load, r];

export default graph;
