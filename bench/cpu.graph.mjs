// The bench's CPU-bound graph file, run through `skein run` as a user would: 16 independent
// tasks of ~45 ms of pure arithmetic and a sum. On 2 cores the ideal is a 2x speedup over sync.
import { spin, sum } from './shapes.mjs';

const graph = {};
for (let i = 0; i < 16; i++) graph[`spin-${i}`] = [spin, 45];
graph.total = [sum, ...Object.keys(graph)];
export default graph;
