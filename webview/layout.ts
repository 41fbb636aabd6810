/**
 * Layered layout of the visible graph with elkjs, computed in a web worker so the page never
 * freezes. The worker's code is given by the page: a URL (VS Code) or inline text (exported HTML).
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { VisibleGraph } from './model.js';

let elk: InstanceType<typeof ELK> | undefined;

async function workerUrl(): Promise<string> {
  const inline = document.getElementById('skein-elk-worker');
  const text = inline?.textContent && inline.textContent.length > 0 ? inline.textContent : await (await fetch((window as unknown as { SKEIN_ELK_WORKER_URL: string }).SKEIN_ELK_WORKER_URL)).text();
  return URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
}

/** Sets x/y of every node, left to right by dependency. */
export async function layout(graph: VisibleGraph): Promise<void> {
  if (elk === undefined) {
    const url = await workerUrl();
    elk = new ELK({ workerFactory: () => new Worker(url) as never });
  }
  const result = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.spacing.nodeNode': '14',
      // small graphs keep the graph's own order where crossings allow; big ones skip that pass
      ...(graph.nodes.length <= 150 ? { 'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES' } : { 'elk.layered.nodePlacement.strategy': 'LINEAR_SEGMENTS' }),
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: graph.edges.map(([from, to], i) => ({ id: `e${i}`, sources: [from], targets: [to] })),
  });
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const c of result.children ?? []) {
    const n = byId.get(c.id);
    if (n) {
      n.x = c.x ?? 0;
      n.y = c.y ?? 0;
    }
  }
}
