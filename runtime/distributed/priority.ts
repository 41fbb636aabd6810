/**
 * The order of tasks ready at the same time, the same on the scheduler and on a worker: the
 * user's priority first (`client.options({ priority })`, higher first, Dask's rule), then the
 * graph's static priority (`order`, lower first).
 */

/** Negative when `a` runs before `b`. */
export function comparePriority(a: { readonly priority: number; readonly userPriority?: number }, b: { readonly priority: number; readonly userPriority?: number }): number {
  return (b.userPriority ?? 0) - (a.userPriority ?? 0) || a.priority - b.priority;
}
