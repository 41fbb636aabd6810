/**
 * What the language server knows of a graph file, from its source alone (TypeScript's parser, not
 * regular expressions; nothing is run): every task key with the range that defines it, its value's
 * function and the strings in its arguments; what those strings name; and the problems found.
 *
 * Keys come from the object the file exports by default: the object literal itself (`export
 * default { … }`, or a `const graph = { … }` exported by name), and assignments to it anywhere in
 * the file (`graph['load-a'] = …`, `` graph[`load-${r}`] = … ``). A template key stands for every
 * key it can make: `load-${r}` is the pattern `load-*`.
 */
import ts from 'typescript';
import { keyGroup } from '../graph/spec.js';

/** Zero-based line and character, as LSP counts (UTF-16 units). */
export interface Position {
  readonly line: number;
  readonly character: number;
}
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

/** A string in a task's arguments (a dependency when it names a key). */
export interface KeyReference {
  readonly text: string;
  /** The string's range, quotes excluded. */
  readonly range: Range;
  /** The key definitions it names (a literal key, or the patterns it matches). */
  readonly targets: readonly TaskDef[];
}

export interface TaskDef {
  /** The key, or for a template key its pattern (`load-*`). */
  readonly key: string;
  readonly pattern: boolean;
  readonly group: string;
  /** The key's own range (quotes excluded). */
  readonly range: Range;
  /** The whole property or assignment. */
  readonly fullRange: Range;
  /** The task's function: its name and range, when the value is a task array headed by one. */
  readonly head: { readonly name: string; readonly range: Range } | null;
  /** The task array's head is a literal, not a function. */
  readonly badHead: { readonly text: string; readonly range: Range } | null;
  readonly references: readonly KeyReference[];
}

export type Severity = 'error' | 'warning' | 'information';

export interface Problem {
  readonly range: Range;
  readonly severity: Severity;
  readonly message: string;
  /** load, evaluation: found by evaluating the file (merge.ts). */
  readonly code: 'cycle' | 'near-miss' | 'not-a-function' | 'not-loadable' | 'duplicate-key' | 'syntax' | 'load' | 'evaluation';
  /** A replacement that fixes it (near-miss: the key meant), at the problem's range or at `at`. */
  readonly fix?: { readonly title: string; readonly newText: string; readonly at?: Range };
}

export interface GraphAnalysis {
  readonly tasks: readonly TaskDef[];
  readonly problems: readonly Problem[];
  /** Where the default export is (the lenses go above it); null without one. */
  readonly exportRange: Range | null;
  /** The file's import declarations: what each imports, and where. */
  readonly imports: ReadonlyArray<{ readonly specifier: string; readonly range: Range }>;
}

/** Patterns of template keys as regular expressions. */
export function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Edits (insert, delete, replace, swap of neighbours) from a to b, up to 2 (more: 3). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

export function analyzeGraphSource(text: string, fileName: string): GraphAnalysis {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, /\.m?tsx?$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const range = (node: ts.Node, inset = 0): Range => {
    const a = sf.getLineAndCharacterOfPosition(node.getStart(sf) + inset);
    const b = sf.getLineAndCharacterOfPosition(node.getEnd() - inset);
    return { start: { line: a.line, character: a.character }, end: { line: b.line, character: b.character } };
  };
  const problems: Problem[] = [];
  for (const d of (sf as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? []) {
    const a = sf.getLineAndCharacterOfPosition(d.start);
    const b = sf.getLineAndCharacterOfPosition(d.start + d.length);
    problems.push({ range: { start: a, end: b }, severity: 'error', code: 'syntax', message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
  }

  // the functions this file declares or imports, by name; those it declares without exporting them, with where to export them
  const functions = new Set<string>();
  const unexported = new Map<string, ts.Node>();
  const exportedNames = new Set<string>();
  const imports: Array<{ specifier: string; range: Range }> = [];
  const isExported = (st: ts.Statement): boolean => (ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) === true;
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) for (const e of st.exportClause.elements) exportedNames.add((e.propertyName ?? e.name).text);
  }
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name) {
      functions.add(st.name.text);
      if (!isExported(st) && !exportedNames.has(st.name.text)) unexported.set(st.name.text, st);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || !d.initializer || !(ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) continue;
        functions.add(d.name.text);
        if (!isExported(st) && !exportedNames.has(d.name.text)) unexported.set(d.name.text, st);
      }
    } else if (ts.isImportDeclaration(st)) {
      if (ts.isStringLiteral(st.moduleSpecifier)) imports.push({ specifier: st.moduleSpecifier.text, range: range(st) });
      if (st.importClause?.name) functions.add(st.importClause.name.text);
      const b = st.importClause?.namedBindings;
      if (b && ts.isNamedImports(b)) for (const e of b.elements) functions.add(e.name.text);
    }
  }

  // the exported object: `export default { … }`, or `export default graph` with `const graph = { … }`
  let exported: ts.ObjectLiteralExpression | undefined;
  let exportedName: string | undefined;
  let exportRange: Range | null = null;
  const declarations = new Map<string, ts.Expression>();
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) declarations.set(d.name.text, d.initializer);
    } else if (ts.isExportAssignment(st) && !st.isExportEquals) {
      exportRange = range(st);
      const e = skipOuter(st.expression);
      if (ts.isObjectLiteralExpression(e)) exported = e;
      else if (ts.isIdentifier(e)) exportedName = e.text;
    }
  }
  if (exportedName !== undefined) {
    const init = declarations.get(exportedName);
    const e = init === undefined ? undefined : skipOuter(init);
    if (e !== undefined && ts.isObjectLiteralExpression(e)) exported = e;
  }

  interface Raw {
    key: string;
    pattern: boolean;
    keyNode: ts.Node;
    inset: number;
    whole: ts.Node;
    value: ts.Expression | undefined;
  }
  const raws: Raw[] = [];
  const keyOf = (node: ts.Node): { key: string; pattern: boolean; inset: number } | undefined => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return { key: node.text, pattern: false, inset: 1 };
    if (ts.isIdentifier(node)) return { key: node.text, pattern: false, inset: 0 };
    if (ts.isNumericLiteral(node)) return { key: node.text, pattern: false, inset: 0 };
    if (ts.isTemplateExpression(node)) return { key: node.head.text + node.templateSpans.map((s) => `*${s.literal.text}`).join(''), pattern: true, inset: 1 };
    if (ts.isComputedPropertyName(node)) return keyOf(node.expression);
    return undefined;
  };
  for (const p of exported?.properties ?? []) {
    if (!ts.isPropertyAssignment(p)) continue;
    const k = keyOf(p.name);
    if (k !== undefined) raws.push({ ...k, keyNode: ts.isComputedPropertyName(p.name) ? p.name.expression : p.name, whole: p, value: p.initializer });
  }
  if (exportedName !== undefined) {
    // graph['key'] = value, anywhere in the file (loops included)
    const visit = (node: ts.Node): void => {
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(node.left) && ts.isIdentifier(node.left.expression) && node.left.expression.text === exportedName) {
        // graph.total = value
        raws.push({ key: node.left.name.text, pattern: false, inset: 0, keyNode: node.left.name, whole: node, value: node.right });
      } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isElementAccessExpression(node.left)) {
        const target = node.left.expression;
        if (ts.isIdentifier(target) && target.text === exportedName) {
          const arg = node.left.argumentExpression;
          const k = keyOf(arg);
          const each = ts.isTemplateExpression(arg) ? loopKeys(arg) : undefined;
          // a key made in a loop over a list of strings: each key it makes, one by one
          if (each !== undefined) for (const key of each) raws.push({ key, pattern: false, inset: 1, keyNode: arg, whole: node, value: node.right });
          else if (k !== undefined) raws.push({ ...k, keyNode: arg, whole: node, value: node.right });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  // the strings of each task's arguments
  const strings = (value: ts.Expression | undefined): ts.StringLiteralLike[] => {
    const out: ts.StringLiteralLike[] = [];
    const walk = (n: ts.Node): void => {
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n);
      else if (ts.isArrayLiteralExpression(n) || ts.isObjectLiteralExpression(n) || ts.isPropertyAssignment(n) || ts.isAsExpression(n) || ts.isParenthesizedExpression(n)) ts.forEachChild(n, walk);
    };
    if (value !== undefined) walk(value);
    return out;
  };
  const literal = new Map<string, Raw>();
  const patterns: Array<{ raw: Raw; re: RegExp }> = [];
  for (const raw of raws) {
    if (raw.pattern) patterns.push({ raw, re: patternRegExp(raw.key) });
    else if (literal.has(raw.key) && literal.get(raw.key)!.whole.parent === raw.whole.parent && ts.isPropertyAssignment(raw.whole)) {
      problems.push({ range: range(raw.keyNode, raw.inset), severity: 'error', code: 'duplicate-key', message: `Duplicate key ${JSON.stringify(raw.key)}: the graph keeps only this one, and the task defined above is lost. Rename one of them.` });
    } else if (!literal.has(raw.key)) literal.set(raw.key, raw);
  }

  const defs = new Map<Raw, TaskDef & { references: KeyReference[] }>();
  for (const raw of raws) {
    const value = raw.value === undefined ? undefined : skipOuter(raw.value);
    let head: TaskDef['head'] = null;
    let badHead: TaskDef['badHead'] = null;
    if (value !== undefined && ts.isArrayLiteralExpression(value) && value.elements.length > 0) {
      const h = skipOuter(value.elements[0]!);
      if (ts.isIdentifier(h) || ts.isPropertyAccessExpression(h)) {
        head = { name: h.getText(sf), range: range(h) };
        const decl = ts.isIdentifier(h) ? unexported.get(h.text) : undefined;
        if (decl !== undefined && ts.isIdentifier(h)) {
          const at = sf.getLineAndCharacterOfPosition(decl.getStart(sf));
          problems.push({
            range: range(h),
            severity: 'warning',
            code: 'not-loadable',
            message: `${h.text} is not exported, so the threads and processes schedulers cannot load it (they import task functions by module and export name); only the sync scheduler can run ${JSON.stringify(raw.key)}. Export it.`,
            fix: { title: `Export ${h.text}`, newText: 'export ', at: { start: at, end: at } },
          });
        }
      } else if (ts.isArrowFunction(h) || ts.isFunctionExpression(h)) {
        problems.push({
          range: range(h),
          severity: 'warning',
          code: 'not-loadable',
          message: `An inline function: the threads and processes schedulers cannot load it (they import task functions by module and export name); only the sync scheduler can run ${JSON.stringify(raw.key)}. Move it into an exported function.`,
        });
      }
      // the name of a function of this file, quoted: a list of strings, not the task it means
      else if (ts.isStringLiteralLike(h) && functions.has(h.text) && !literal.has(h.text)) badHead = { text: h.text, range: range(h) };
    }
    defs.set(raw, { key: raw.key, pattern: raw.pattern, group: keyGroup(raw.key.replace(/\*.*$/, '')) || raw.key, range: range(raw.keyNode, raw.inset), fullRange: range(raw.whole), head, badHead, references: [] });
  }
  const tasks = [...defs.values()];
  const named = (s: string): TaskDef[] => {
    const exact = literal.get(s);
    const out: TaskDef[] = exact === undefined ? [] : [defs.get(exact)!];
    for (const p of patterns) if (p.re.test(s)) out.push(defs.get(p.raw)!);
    return out;
  };
  const known = [...literal.keys()];
  for (const raw of raws) {
    const def = defs.get(raw)!;
    const value = raw.value === undefined ? undefined : skipOuter(raw.value);
    for (const s of strings(value)) {
      // the head of a task array is its function, not an argument
      if (value !== undefined && ts.isArrayLiteralExpression(value) && skipOuter(value.elements[0]!) === s) continue;
      const targets = named(s.text);
      const ref: KeyReference = { text: s.text, range: range(s, 1), targets };
      def.references.push(ref);
      if (targets.length === 0 && s.text.length >= 3) {
        // the likeliest first (two letters swapped, then one changed, then one more or less), three at most
        const kind = (k: string): number => (k.length !== s.text.length ? 2 : [...k].sort().join('') === [...s.text].sort().join('') ? 0 : 1);
        const near = known
          .filter((k) => editDistance(s.text, k) === 1)
          .sort((x, y) => kind(x) - kind(y))
          .slice(0, 3);
        if (near.length > 0) {
          problems.push({
            range: ref.range,
            severity: 'warning',
            code: 'near-miss',
            message: `${JSON.stringify(s.text)} is not a key, so the task gets it as a plain string; did you mean ${near.map((k) => `\`${k}\``).join(' or ')}?`,
            fix: { title: `Change to ${JSON.stringify(near[0])}`, newText: near[0]! },
          });
        }
      }
    }
    if (def.badHead !== null) {
      const name = def.badHead.text;
      problems.push({
        range: def.badHead.range,
        severity: 'error',
        code: 'not-a-function',
        message: `${JSON.stringify(def.key)} starts with the string ${JSON.stringify(name)}, not the function ${name}: a task is [function, ...arguments], so this is a plain list and ${name} never runs. Write ${name} without quotes.`,
        fix: { title: `Use the function ${name}`, newText: name },
      });
    }
  }

  // cycles among literal keys: each key of one marked, the cycle named
  const graph = new Map<string, string[]>();
  for (const [key, raw] of literal) graph.set(key, defs.get(raw)!.references.filter((r) => literal.has(r.text)).map((r) => r.text));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const dfs = (k: string): void => {
    state.set(k, 'open');
    stack.push(k);
    for (const d of graph.get(k) ?? []) {
      if (state.get(d) === 'open') {
        const cycle = stack.slice(stack.indexOf(d));
        const text = [...cycle, d].join(' → ');
        for (const c of cycle) {
          if (reported.has(c)) continue;
          reported.add(c);
          const raw = literal.get(c)!;
          problems.push({ range: range(raw.keyNode, raw.inset), severity: 'error', code: 'cycle', message: `Cycle: ${text}. A task cannot depend on itself, directly or through others; no scheduler can run these.` });
        }
      } else if (!state.has(d)) dfs(d);
    }
    stack.pop();
    state.set(k, 'done');
  };
  for (const k of graph.keys()) if (!state.has(k)) dfs(k);

  problems.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return { tasks, problems, exportRange, imports };
}

/**
 * The keys a template makes inside `for (const x of ['a', 'b'])` loops over lists of strings, when
 * each of its substitutions is such a loop's variable; undefined otherwise (it stays a pattern).
 */
function loopKeys(template: ts.TemplateExpression): string[] | undefined {
  const valuesOf = (name: string): string[] | undefined => {
    for (let n: ts.Node | undefined = template.parent; n !== undefined; n = n.parent) {
      if (!ts.isForOfStatement(n) || !ts.isVariableDeclarationList(n.initializer)) continue;
      const d = n.initializer.declarations[0];
      if (d === undefined || !ts.isIdentifier(d.name) || d.name.text !== name) continue;
      const list = skipOuter(n.expression);
      if (!ts.isArrayLiteralExpression(list) || !list.elements.every((e) => ts.isStringLiteralLike(e))) return undefined;
      return list.elements.map((e) => (e as ts.StringLiteralLike).text);
    }
    return undefined;
  };
  let keys = [template.head.text];
  for (const span of template.templateSpans) {
    const e = skipOuter(span.expression);
    const values = ts.isIdentifier(e) ? valuesOf(e.text) : undefined;
    if (values === undefined) return undefined;
    keys = keys.flatMap((k) => values.map((v) => k + v + span.literal.text));
  }
  return keys;
}

function skipOuter(e: ts.Expression): ts.Expression {
  let x = e;
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isSatisfiesExpression(x) || ts.isTypeAssertionExpression(x) || ts.isNonNullExpression(x)) x = x.expression;
  return x;
}

/** Whether `pos` falls inside `r`. */
export function contains(r: Range, pos: Position): boolean {
  const after = pos.line > r.start.line || (pos.line === r.start.line && pos.character >= r.start.character);
  const before = pos.line < r.end.line || (pos.line === r.end.line && pos.character <= r.end.character);
  return after && before;
}
