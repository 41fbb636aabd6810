/**
 * Sampled profiles as call trees, for flame graphs: what V8's sampling profiler gives (a
 * `.cpuprofile`: nodes with call frames, children and hit counts) merged by call path, so the
 * samples of many threads, workers and seconds add up into one tree. No imports: the panel app
 * draws these trees as they are.
 */

/** A frame on a call path, with the samples taken in it (`self`) and its callees. */
export interface ProfileNode {
  /** Function name ('(anonymous)' where it has none). */
  readonly name: string;
  /** Source file (a path or URL), '' for V8's own frames. */
  readonly file: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
  self: number;
  children: ProfileNode[];
}

/** Samples merged by call path, with the sampling interval that gives them a duration. */
export interface ProfileTree {
  readonly intervalMs: number;
  readonly root: ProfileNode;
}

/** The part of a `.cpuprofile` read here. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber?: number };
    readonly hitCount?: number;
    readonly children?: readonly number[];
  }>;
}

/** V8's pseudo-frames that are not the program's work: a thread waiting, the profiler's own root. */
const IGNORED = new Set(['(idle)', '(program)', '(root)']);

export function emptyNode(name = 'all', file = '', line = 0): ProfileNode {
  return { name, file, line, self: 0, children: [] };
}

const same = (a: ProfileNode, name: string, file: string, line: number): boolean => a.name === name && a.file === file && a.line === line;

function childOf(parent: ProfileNode, name: string, file: string, line: number): ProfileNode {
  let child = parent.children.find((c) => same(c, name, file, line));
  if (child === undefined) parent.children.push((child = emptyNode(name, file, line)));
  return child;
}

/** How a sampling thread names its frames: where they are in the source, and which are its own machinery. */
export interface FrameOptions {
  /** The source position of a frame (source maps), from its 0-based line and column; undefined: as it is. */
  readonly locate?: (url: string, line: number, column: number) => { readonly file: string; readonly line: number } | undefined;
  /** Frames of this file at the top of a stack, above the first other frame, are left out (the worker's own calls into the task). */
  readonly hideTop?: (url: string) => boolean;
}

/** A `.cpuprofile` as a call tree (`(idle)` and `(program)` samples left out); null when nothing was sampled. */
export function treeOfProfile(profile: CpuProfile, options: FrameOptions = {}): ProfileNode | null {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const root = emptyNode();
  let samples = 0;
  const walk = (id: number, into: ProfileNode): void => {
    const n = byId.get(id);
    if (n === undefined) return;
    const { functionName, url, lineNumber, columnNumber } = n.callFrame;
    let here = into;
    if (IGNORED.has(functionName)) {
      // not the program's work
    } else if (into === root && url !== '' && options.hideTop?.(url) === true) {
      // the worker's own frames above the task: their samples count at the top
      root.self += n.hitCount ?? 0;
      samples += n.hitCount ?? 0;
    } else {
      const at = options.locate?.(url, lineNumber, columnNumber ?? 0);
      here = childOf(into, functionName || '(anonymous)', at?.file ?? url, at?.line ?? lineNumber + 1);
      here.self += n.hitCount ?? 0;
      samples += n.hitCount ?? 0;
    }
    for (const c of n.children ?? []) walk(c, here);
  };
  const first = profile.nodes[0];
  if (first !== undefined) walk(first.id, root);
  if (samples === 0) return null;
  return prune(root);
}

/** Drops the branches without samples. */
function prune(node: ProfileNode): ProfileNode {
  node.children = node.children.filter((c) => total(c) > 0).map(prune);
  return node;
}

/** Adds the samples of `from` into `into` (same call path, same node). */
export function mergeInto(into: ProfileNode, from: ProfileNode): void {
  into.self += from.self;
  for (const c of from.children) mergeInto(childOf(into, c.name, c.file, c.line), c);
}

/** Samples in a node and everything it called. */
export function total(node: ProfileNode): number {
  let n = node.self;
  for (const c of node.children) n += total(c);
  return n;
}

/**
 * The tree without the branches under `fraction` of the whole (what a flame graph could not
 * draw wider than a hair), their samples kept in their parent's `self` so the totals still add up.
 */
export function trimmed(node: ProfileNode, fraction: number, whole = total(node)): ProfileNode {
  const keep: ProfileNode[] = [];
  let dropped = 0;
  for (const c of node.children) {
    const t = total(c);
    if (t >= fraction * whole) keep.push(trimmed(c, fraction, whole));
    else dropped += t;
  }
  return { name: node.name, file: node.file, line: node.line, self: node.self + dropped, children: keep };
}

/** The samples of `now` that `before` does not have (both trees of the same profile, `before` taken earlier); empty branches left out. */
export function subtracted(now: ProfileNode, before: ProfileNode | null): ProfileNode {
  const node = emptyNode(now.name, now.file, now.line);
  node.self = Math.max(0, now.self - (before?.self ?? 0));
  for (const child of now.children) {
    const old = before?.children.find((c) => same(c, child.name, child.file, child.line)) ?? null;
    const rest = subtracted(child, old);
    if (rest.self > 0 || rest.children.length > 0) node.children.push(rest);
  }
  return node;
}
