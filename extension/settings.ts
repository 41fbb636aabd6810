/**
 * The extension's settings (`skein.*`), read in one place and mapped onto the runtime's
 * configuration keys.
 */
import * as vscode from 'vscode';

export type SchedulerChoice = 'threads' | 'processes' | 'sync' | 'distributed';

export interface SkeinSettings {
  /** → runtime `scheduler` */
  readonly scheduler: SchedulerChoice;
  /** → runtime `numWorkers` (null: one per CPU) */
  readonly numWorkers: number | null;
  readonly graphFiles: string;
  readonly nodePath: string;
  readonly openPanelOnRun: boolean;
  /** Megabytes of results a debug session keeps for Step Back. */
  readonly stepBackMemory: number;
}

export function readSettings(scope?: vscode.Uri): SkeinSettings {
  const c = vscode.workspace.getConfiguration('skein', scope);
  const n = c.get<number | null>('numWorkers', null);
  return {
    scheduler: c.get<SchedulerChoice>('scheduler', 'threads'),
    numWorkers: typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : null,
    graphFiles: c.get<string>('graphFiles', '**/*.graph.{ts,mts,js,mjs}'),
    nodePath: c.get<string>('nodePath', ''),
    openPanelOnRun: c.get<boolean>('openPanelOnRun', true),
    stepBackMemory: Math.max(0, c.get<number>('debug.stepBackMemory', 256)),
  };
}

/** A graph file by Skein's naming (the `skein.graphFiles` default): `*.graph.ts` and its kin. */
export function isGraphFile(file: string): boolean {
  return /\.graph\.(ts|mts|js|mjs)$/.test(file);
}

/** The Node.js that runs graphs: the setting, else this process when it is Node, else `node`. */
export function nodeExecutable(settings: SkeinSettings): string {
  if (settings.nodePath.trim() !== '') return settings.nodePath.trim();
  return process.versions.electron === undefined ? process.execPath : 'node';
}

/** The command line a user would type for the same run (shown in the output channel). */
export function commandLine(file: string, scheduler: string, numWorkers: number | null): string {
  const quoted = /[\s'"]/.test(file) ? JSON.stringify(file) : file;
  return `skein run ${quoted} --scheduler ${scheduler}${numWorkers !== null && scheduler !== 'sync' ? ` --num-workers ${numWorkers}` : ''}`;
}
