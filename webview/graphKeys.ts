/**
 * Moving through the graph canvas with the keyboard. The layout runs left to right, so Right goes
 * to a dependent, Left to a dependency, Up and Down to the nearest node of the same column; Home
 * goes to the first node. Each is picked by where the nodes are on screen, nearest first.
 */
import type { VisibleGraph, VisibleNode } from './model.js';

const centerOf = (n: VisibleNode): { x: number; y: number } => ({ x: n.x + n.width / 2, y: n.y + n.height / 2 });

/** The node a key moves to from `current` (none selected: the first node), or undefined for keys that do not move. */
export function nodeAfterKey(graph: VisibleGraph, current: string | undefined, key: string): VisibleNode | undefined {
  const { nodes, edges } = graph;
  if (nodes.length === 0) return undefined;
  const first = (): VisibleNode => nodes.reduce((a, b) => (a.x < b.x || (a.x === b.x && a.y < b.y) ? a : b));
  const here = nodes.find((n) => n.id === current);
  if (key === 'Home' || (here === undefined && key.startsWith('Arrow'))) return first();
  if (here === undefined) return undefined;
  const c = centerOf(here);
  const nearest = (list: VisibleNode[]): VisibleNode | undefined =>
    list.sort((a, b) => Math.hypot(centerOf(a).x - c.x, centerOf(a).y - c.y) - Math.hypot(centerOf(b).x - c.x, centerOf(b).y - c.y))[0];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  switch (key) {
    case 'ArrowRight':
      return nearest(edges.filter(([from]) => from === here.id).map(([, to]) => byId.get(to)!)) ?? here;
    case 'ArrowLeft':
      return nearest(edges.filter(([, to]) => to === here.id).map(([from]) => byId.get(from)!)) ?? here;
    case 'ArrowUp':
    case 'ArrowDown': {
      // the same column: nodes overlapping this one's horizontal extent, above or below it
      const column = nodes.filter((n) => n !== here && n.x < here.x + here.width && n.x + n.width > here.x && (key === 'ArrowUp' ? centerOf(n).y < c.y : centerOf(n).y > c.y));
      return nearest(column) ?? here;
    }
    default:
      return undefined;
  }
}
