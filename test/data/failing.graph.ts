// A graph whose `parse-b` task throws: used to check error messages and source-mapped stacks.
export function read(name: string): string {
  return `${name}:1,2,3`;
}

export function parse(text: string): number[] {
  if (text.startsWith('b')) {
    throw new Error(`cannot parse ${text}`); // line 8: the stack must point here
  }
  return text.split(':')[1]!.split(',').map(Number);
}

export function combine(...parts: number[][]): number {
  return parts.flat().reduce((a, b) => a + b, 0);
}

export default {
  'read-a': [read, 'a'],
  'read-b': [read, 'b'],
  'parse-a': [parse, 'read-a'],
  'parse-b': [parse, 'read-b'],
  total: [combine, 'parse-a', 'parse-b'],
};
