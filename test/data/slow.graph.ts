// Long-running tasks, to interrupt the CLI with Ctrl-C while workers are busy.
export const sleep = (ms: number): Promise<number> => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
export const total = (...xs: number[]): number => xs.reduce((a, b) => a + b, 0);

const graph: Record<string, unknown> = {};
for (let i = 0; i < 8; i++) graph[`sleep-${i}`] = [sleep, 5000];
graph.total = [total, ...Object.keys(graph)];
export default graph;
