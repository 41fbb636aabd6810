/**
 * A syntax error in a graph file (or a module it imports), said the way a compiler says it:
 * file, line, column, the message, and the line with a caret under the spot. Used by the
 * module hooks (esbuild reports TypeScript errors) and by the graph loader (for JavaScript,
 * whose V8 SyntaxError names no line, esbuild parses the file again to find it).
 */

/** esbuild's description of one error (the fields used here). */
export interface EsbuildMessage {
  readonly text: string;
  readonly location: { readonly file: string; readonly line: number; readonly column: number; readonly lineText: string } | null;
}

/** `file:line:column: message`, then the offending line and a caret. `line` is 1-based, `column` 0-based. */
export function formatSyntaxError(file: string, line: number, column: number, text: string, lineText: string): string {
  const shown = lineText.replace(/\t/g, ' ');
  return `${file}:${line}:${column + 1}: ${text}\n  ${shown}\n  ${' '.repeat(Math.min(column, shown.length))}^`;
}

/** The first located esbuild error as a formatted SyntaxError, or undefined. */
export function syntaxErrorFrom(messages: readonly EsbuildMessage[] | undefined): SyntaxError | undefined {
  const first = messages?.find((m) => m.location !== null);
  if (first === undefined || first.location === null) return undefined;
  const { file, line, column, lineText } = first.location;
  return new SyntaxError(formatSyntaxError(file, line, column, first.text, lineText));
}
