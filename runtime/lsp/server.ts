/**
 * The language server for graph files (`dist/languageServer.js --stdio`, or over IPC when VS Code
 * starts it): problems as you type, each at its range and with its fix where there is one
 * (analysis.ts reads the source with TypeScript's parser and runs nothing), the tasks as document
 * symbols by key group, go to a key's definition and find its references, completion of keys in
 * task arrays, hover with a task's dependencies and dependents, rename of a key across the file, and
 * the Run and Debug lenses. Once edits settle it also evaluates the file (evaluate.ts: a sandboxed
 * process of its own, with a time limit; not in an untrusted workspace, where the client says
 * `evaluate: false`), for what only running the file's top level shows (merge.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  ProposedFeatures,
  SymbolKind,
  TextDocumentSyncKind,
  createConnection,
  type CodeAction,
  type CodeLens,
  type Diagnostic,
  type DocumentSymbol,
  type Location,
  type TextEdit,
} from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { type GraphAnalysis, type KeyReference, type Position, type Range, type TaskDef, analyzeGraphSource, contains, patternRegExp } from './analysis.js';
import type { Evaluation } from './evaluate.js';
import { withEvaluation } from './merge.js';

const connection = createConnection(ProposedFeatures.all);
const documents = new Map<string, TextDocument>();
const analyses = new Map<string, GraphAnalysis>();
const timers = new Map<string, NodeJS.Timeout>();

/** Edits settle this long before a file is analysed again (a save analyses at once). */
const SETTLE_MS = 150;
/** ... and this long before it is evaluated again (a save evaluates at once). */
const EVALUATE_SETTLE_MS = 500;
/**
 * A file just opened waits this long at most for its first evaluation before its problems show
 * (so that a key made by code does not show as a typo for a moment).
 */
const OPEN_WAIT_MS = 1_500;

/** How the client wants evaluation: `evaluate` false in an untrusted workspace (`skein/evaluate` turns it on later). */
const evaluation = { on: true, node: undefined as string | undefined, timeoutMs: 5_000 };
/** The latest evaluation of each file, and the text version it was of. */
const evaluations = new Map<string, { version: number; result: Evaluation | undefined; made: ReadonlySet<string> }>();
const evaluating = new Map<string, AbortController>();
const evaluateTimers = new Map<string, NodeJS.Timeout>();
/** Lenses above each task only in files with fewer tasks than this. */
const TASK_LENSES_BELOW = 200;

function analysis(uri: string): GraphAnalysis | undefined {
  let a = analyses.get(uri);
  const doc = documents.get(uri);
  if (a === undefined && doc !== undefined) {
    a = analyzeGraphSource(doc.getText(), pathOf(uri));
    analyses.set(uri, a);
  }
  return a;
}

function pathOf(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/**
 * Node's garbage collector, made callable: parsing a big file again at every pause in typing
 * leaves a lot of garbage, which V8 would otherwise keep as resident memory for a while.
 */
const collect = ((): (() => void) | undefined => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();
/** Files at least this large are followed by a collection once analysed. */
const COLLECT_AFTER_CHARS = 100_000;

/**
 * What evaluation says of the document's text as it is: the evaluation of this version; else, of an
 * earlier one, only the keys that code made there (those the parser did not see defined in that
 * version: an edit seldom changes them; a key renamed in the source is not among them).
 */
function evaluated(uri: string): Evaluation | undefined {
  const e = evaluations.get(uri);
  if (e?.result === undefined || e.version === documents.get(uri)?.version) return e?.result;
  return e.result.ok ? { ok: true, keys: e.result.keys.filter((k) => e.made.has(k.key)), cycle: null } : undefined;
}

function publish(uri: string): void {
  clearTimeout(timers.get(uri));
  timers.delete(uri);
  analyses.delete(uri);
  const a = analysis(uri);
  const doc = documents.get(uri);
  if (a === undefined || doc === undefined) return;
  if (doc.getText().length >= COLLECT_AFTER_CHARS) setImmediate(() => collect?.());
  const diagnostics: Diagnostic[] = withEvaluation(a, evaluated(uri), pathOf(uri), doc.getText()).map((p) => ({
    range: p.range,
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    source: 'skein',
    code: p.code,
    message: p.message,
    data: p.fix,
  }));
  void connection.sendDiagnostics({ uri, diagnostics });
}

/** Evaluates the document's text now (a newer one ends an evaluation still running), then publishes again. */
async function evaluate(uri: string): Promise<void> {
  evaluateTimers.delete(uri);
  const doc = documents.get(uri);
  const a = analysis(uri);
  if (!evaluation.on || doc === undefined || a === undefined || !uri.startsWith('file:')) return;
  evaluating.get(uri)?.abort();
  // a syntax error: the parser has said where; loading would only say it again
  if (a.problems.some((p) => p.code === 'syntax')) {
    evaluations.delete(uri);
    return publish(uri);
  }
  const version = doc.version;
  const ac = new AbortController();
  evaluating.set(uri, ac);
  let result: Evaluation | undefined;
  try {
    const { evaluateGraphText } = await import('./evaluate.js');
    result = await evaluateGraphText(doc.getText(), pathOf(uri), { node: evaluation.node, timeoutMs: evaluation.timeoutMs, signal: ac.signal });
  } catch (error) {
    result = { ok: false, kind: 'load', message: `Skein could not evaluate it: ${error instanceof Error ? error.message : String(error)}`, at: null };
  } finally {
    if (evaluating.get(uri) === ac) evaluating.delete(uri);
  }
  if (ac.signal.aborted || documents.get(uri)?.version !== version) return;
  // the keys code made: those the parser does not see defined in this version
  const literal = new Set(a.tasks.filter((d) => !d.pattern).map((d) => d.key));
  evaluations.set(uri, { version, result, made: new Set(result?.ok ? result.keys.map((k) => k.key).filter((k) => !literal.has(k)) : []) });
  publish(uri);
}

function schedule(uri: string, ms: number): void {
  clearTimeout(timers.get(uri));
  timers.set(uri, setTimeout(() => publish(uri), ms));
}

function scheduleEvaluation(uri: string, ms: number): void {
  clearTimeout(evaluateTimers.get(uri));
  if (evaluation.on) evaluateTimers.set(uri, setTimeout(() => void evaluate(uri), ms));
}

/** The task whose key is at `pos`, or the key string at `pos` in a task's arguments. */
function at(a: GraphAnalysis, pos: Position): { def?: TaskDef; ref?: KeyReference } {
  for (const def of a.tasks) {
    if (contains(def.range, pos)) return { def };
    for (const ref of def.references) if (contains(ref.range, pos)) return { ref };
  }
  return {};
}

/** Every place a key appears: its definition and the strings that name it. */
function occurrences(a: GraphAnalysis, key: string): Range[] {
  const out: Range[] = [];
  for (const def of a.tasks) {
    if (!def.pattern && def.key === key) out.push(def.range);
    for (const ref of def.references) if (ref.text === key && ref.targets.length > 0) out.push(ref.range);
  }
  return out;
}

/** A task as the latest run of its file left it (sent by the editor after a run: `skein/lastRun`). */
export interface LastRunTask {
  readonly ms: number | null;
  /** Overhead's share of the task's time in its worker (0 to 1), when measured. */
  readonly overhead: number | null;
  readonly state: string;
}
const lastRuns = new Map<string, Readonly<Record<string, LastRunTask>>>();

/** "12.4 ms · 3 % overhead" */
function ranText(t: LastRunTask): string | undefined {
  if (t.ms === null) return undefined;
  const ms = t.ms >= 100 ? t.ms.toFixed(0) : t.ms >= 10 ? t.ms.toFixed(1) : t.ms.toFixed(2);
  return `${ms} ms${t.overhead === null ? '' : ` · ${Math.round(t.overhead * 100)} % overhead`}`;
}

connection.onNotification('skein/lastRun', (p: { uri: string; tasks: Record<string, LastRunTask> }) => {
  lastRuns.set(p.uri, p.tasks);
  void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
});

connection.onNotification('skein/evaluate', (p: { on: boolean }) => {
  evaluation.on = p.on;
  if (p.on) for (const uri of documents.keys()) scheduleEvaluation(uri, 0);
});

/** Where a key is defined in a graph file (open or on disk): its range, a pattern's it matches, or null. */
connection.onRequest('skein/keyRange', (p: { uri: string; key: string }): Range | null => {
  let a = analysis(p.uri);
  if (a === undefined) {
    try {
      a = analyzeGraphSource(readFileSync(pathOf(p.uri), 'utf8'), pathOf(p.uri));
    } catch {
      return null;
    }
  }
  const def = a.tasks.find((d) => !d.pattern && d.key === p.key) ?? a.tasks.find((d) => d.pattern && patternRegExp(d.key).test(p.key));
  return def?.range ?? null;
});

connection.onInitialize(({ initializationOptions }) => {
  const o = (initializationOptions ?? {}) as { evaluate?: boolean; node?: string; evaluationTimeoutMs?: number };
  evaluation.on = o.evaluate !== false && !process.argv.includes('--no-evaluate');
  evaluation.node = o.node;
  if (typeof o.evaluationTimeoutMs === 'number') evaluation.timeoutMs = o.evaluationTimeoutMs;
  return {
  capabilities: {
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: true },
    documentSymbolProvider: true,
    definitionProvider: true,
    referencesProvider: true,
    hoverProvider: true,
    renameProvider: { prepareProvider: false },
    completionProvider: { triggerCharacters: ["'", '"', '`'] },
    codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    codeLensProvider: { resolveProvider: false },
  },
  serverInfo: { name: 'skein', version: '1' },
  };
});

connection.onDidOpenTextDocument(({ textDocument: t }) => {
  documents.set(t.uri, TextDocument.create(t.uri, t.languageId, t.version, t.text));
  if (evaluation.on && t.uri.startsWith('file:')) {
    schedule(t.uri, OPEN_WAIT_MS);
    void evaluate(t.uri);
  } else publish(t.uri);
});
connection.onDidChangeTextDocument(({ textDocument: t, contentChanges }) => {
  const doc = documents.get(t.uri);
  if (doc === undefined) return;
  documents.set(t.uri, TextDocument.update(doc, contentChanges, t.version));
  analyses.delete(t.uri);
  schedule(t.uri, SETTLE_MS);
  scheduleEvaluation(t.uri, EVALUATE_SETTLE_MS);
});
connection.onDidSaveTextDocument(({ textDocument: t }) => {
  schedule(t.uri, 0);
  scheduleEvaluation(t.uri, 0);
});
connection.onDidCloseTextDocument(({ textDocument: t }) => {
  clearTimeout(timers.get(t.uri));
  clearTimeout(evaluateTimers.get(t.uri));
  evaluating.get(t.uri)?.abort();
  evaluations.delete(t.uri);
  documents.delete(t.uri);
  analyses.delete(t.uri);
  void connection.sendDiagnostics({ uri: t.uri, diagnostics: [] });
});

connection.onDocumentSymbol(({ textDocument }): DocumentSymbol[] => {
  const a = analysis(textDocument.uri);
  if (a === undefined) return [];
  const groups = new Map<string, TaskDef[]>();
  for (const def of a.tasks) groups.set(def.group, [...(groups.get(def.group) ?? []), def]);
  return [...groups].map(([group, defs]) => {
    const children = defs.map((d): DocumentSymbol => ({ name: d.key, detail: d.head?.name ?? '', kind: SymbolKind.Function, range: d.fullRange, selectionRange: d.range }));
    if (defs.length === 1 && defs[0]!.key === group) return children[0]!;
    const start = defs.map((d) => d.fullRange.start).sort((x, y) => x.line - y.line || x.character - y.character)[0]!;
    const end = defs.map((d) => d.fullRange.end).sort((x, y) => y.line - x.line || y.character - x.character)[0]!;
    return { name: group, detail: `${defs.length} tasks`, kind: SymbolKind.Namespace, range: { start, end }, selectionRange: defs[0]!.range, children };
  });
});

connection.onDefinition(({ textDocument, position }): Location[] => {
  const a = analysis(textDocument.uri);
  const hit = a === undefined ? {} : at(a, position);
  return (hit.ref?.targets ?? []).map((d) => ({ uri: textDocument.uri, range: d.range }));
});

connection.onReferences(({ textDocument, position, context }): Location[] => {
  const a = analysis(textDocument.uri);
  if (a === undefined) return [];
  const hit = at(a, position);
  const key = hit.def && !hit.def.pattern ? hit.def.key : hit.ref?.targets.length ? hit.ref.text : undefined;
  if (key === undefined) return [];
  const all = occurrences(a, key);
  const def = a.tasks.find((d) => !d.pattern && d.key === key);
  return all.filter((r) => context.includeDeclaration || r !== def?.range).map((range) => ({ uri: textDocument.uri, range }));
});

connection.onHover(({ textDocument, position }) => {
  const a = analysis(textDocument.uri);
  if (a === undefined) return null;
  const hit = at(a, position);
  const def = hit.def ?? hit.ref?.targets[0];
  if (def === undefined) return null;
  const deps = def.references.filter((r) => r.targets.length > 0).map((r) => `\`${r.text}\``);
  const dependents = a.tasks.filter((d) => d.references.some((r) => r.targets.includes(def))).map((d) => `\`${d.key}\``);
  const lines = [
    `**${def.key}**${def.pattern ? ' (a key pattern)' : ''} · group \`${def.group}\`${def.head ? ` · calls \`${def.head.name}\`` : ''}`,
    `depends on: ${deps.length > 0 ? deps.join(', ') : 'nothing'}`,
    `dependents: ${dependents.length > 0 ? dependents.join(', ') : 'none'}`,
  ];
  const last = lastRuns.get(textDocument.uri)?.[hit.ref?.text ?? def.key];
  if (last !== undefined) lines.push(`latest run: ${last.state}${ranText(last) === undefined ? '' : `, ${ranText(last)}`}`);
  return { contents: { kind: 'markdown', value: lines.join('\n\n') }, range: hit.def?.range ?? hit.ref?.range };
});

connection.onCompletion(({ textDocument, position }) => {
  const a = analysis(textDocument.uri);
  if (a === undefined) return [];
  // inside a string of a task's arguments (where a key names a dependency)
  const inside = a.tasks.some((d) => d.references.some((r) => contains(r.range, position)));
  if (!inside) return [];
  const seen = new Set<string>();
  const items = a.tasks.filter((d) => !d.pattern && !seen.has(d.key) && seen.add(d.key)).map((d) => ({ label: d.key, kind: CompletionItemKind.Reference, detail: d.head ? `${d.group} · ${d.head.name}` : d.group }));
  // and the keys the file makes in code the parser cannot follow, as its evaluation found them
  const e = evaluated(textDocument.uri);
  for (const k of e?.ok ? e.keys : []) if (!seen.has(k.key) && seen.add(k.key)) items.push({ label: k.key, kind: CompletionItemKind.Reference, detail: 'made by code' });
  return items;
});

connection.onRenameRequest(({ textDocument, position, newName }) => {
  const a = analysis(textDocument.uri);
  if (a === undefined) return null;
  const hit = at(a, position);
  const key = hit.def && !hit.def.pattern ? hit.def.key : hit.ref?.targets.some((d) => !d.pattern) ? hit.ref.text : undefined;
  if (key === undefined) return null;
  const edits: TextEdit[] = occurrences(a, key).map((range) => ({ range, newText: newName }));
  return { changes: { [textDocument.uri]: edits } };
});

connection.onCodeAction(({ textDocument, context }): CodeAction[] =>
  context.diagnostics
    .filter((d) => d.source === 'skein' && d.data !== undefined)
    .map((d) => {
      const fix = d.data as { title: string; newText: string; at?: Range };
      return { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [textDocument.uri]: [{ range: fix.at ?? d.range, newText: fix.newText }] } } };
    }),
);

connection.onCodeLens(({ textDocument }): CodeLens[] => {
  const a = analysis(textDocument.uri);
  if (a === undefined || a.exportRange === null) return [];
  const uri = textDocument.uri;
  const top = { start: a.exportRange.start, end: a.exportRange.start };
  const lenses: CodeLens[] = [
    { range: top, command: { title: 'Run with Threads', command: 'skein.runThreads', arguments: [uri] } },
    { range: top, command: { title: 'Run with Processes', command: 'skein.runProcesses', arguments: [uri] } },
    { range: top, command: { title: 'Debug', command: 'skein.debugTask', arguments: [uri] } },
    { range: top, command: { title: 'Show Graph', command: 'skein.showGraph', arguments: [uri] } },
  ];
  if (a.tasks.length < TASK_LENSES_BELOW) {
    const last = lastRuns.get(uri);
    for (const d of a.tasks) {
      if (d.pattern) continue;
      const at = { start: d.fullRange.start, end: d.fullRange.start };
      lenses.push({ range: at, command: { title: 'Debug this task', command: 'skein.debugTask', arguments: [uri, d.key] } });
      // after a run: its time and its share of overhead (a label, not a command)
      const ran = last?.[d.key] === undefined ? undefined : ranText(last[d.key]!);
      if (ran !== undefined) lenses.push({ range: at, command: { title: ran, command: '' } });
    }
  }
  return lenses;
});

connection.listen();
