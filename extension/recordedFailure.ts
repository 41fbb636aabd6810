/** What Open Recorded Run needs to offer Debug Failed Task: kept apart from vscode, to test it on real records. */
import { readFileSync } from 'node:fs';
import { validateRecord } from '../runtime/diagnostics/recordSchema.js';

/** The graph file and failed task of a recorded run a task failed; undefined for any other record. */
export function recordedFailure(file: string): { file: string; failedKey: string; message: string } | undefined {
  try {
    const record = validateRecord(JSON.parse(readFileSync(file, 'utf8')), file);
    const key = record.error?.key;
    if (key === null || key === undefined || record.run.graphFile === null) return undefined;
    return { file: record.run.graphFile, failedKey: key, message: record.error!.message.split('\n')[0]! };
  } catch {
    return undefined;
  }
}
