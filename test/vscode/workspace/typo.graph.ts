// A dependency one edit away from a key: the language server warns (did you mean `load-south`?);
// the graph runs all the same, clean-south getting the string as it is.
export const load = (region: string): string => `rows of ${region}`;
export const clean = (rows: string): string => rows.toUpperCase();

export default {
  'load-south': [load, 'south'],
  'clean-south': [clean, 'load-soutth'],
};
