// A plain-JavaScript graph file with a cycle: the CLI must refuse it before running anything.
export const inc = (x) => x + 1;
export default { a: [inc, 'c'], b: [inc, 'a'], c: [inc, 'b'] };
