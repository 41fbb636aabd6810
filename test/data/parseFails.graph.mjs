// Three loads and three parses, one parse throws: the task's own error, every time, on every scheduler.
export const load = (name) => `${name}:1,2,3`;
export function parse(text) {
  if (text.startsWith('b')) throw new Error(`cannot parse ${text}`);
  return text.split(':')[1].split(',').map(Number);
}

export default {
  'load-a': [load, 'a'], 'load-b': [load, 'b'], 'load-c': [load, 'c'],
  'parse-a': [parse, 'load-a'], 'parse-b': [parse, 'load-b'], 'parse-c': [parse, 'load-c'],
};
