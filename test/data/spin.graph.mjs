// CPU-bound tasks that never await: to interrupt the sync scheduler between tasks.
import { spin } from './scripts/tasks.mjs';

const graph = {};
for (let i = 0; i < 10; i++) graph[`spin-${i}`] = [spin, 200];
export default graph;
