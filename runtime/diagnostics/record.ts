/**
 * Reading recorded-run files from disk; the schema itself is in recordSchema.ts.
 */
import { readFileSync } from 'node:fs';
import { SkeinError } from '../errors.js';
import { validateRecord, type RunRecord } from './recordSchema.js';

export * from './recordSchema.js';

function fail(source: string, why: string): never {
  throw new SkeinError('BAD_RECORD', `${source} is not a valid Skein run record: ${why}`);
}

/** Reads and validates a record file. */
export function readRecord(file: string): RunRecord {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SkeinError('BAD_RECORD', `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    fail(file, `it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validateRecord(doc, file);
}
