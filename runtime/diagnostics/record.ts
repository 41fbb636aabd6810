/**
 * Reading recorded-run files from disk; the schema itself is in recordSchema.ts.
 */
import { readFileSync } from 'node:fs';
import { Errors } from '../errors.js';
import { validateRecord, type RunRecord } from './recordSchema.js';

export * from './recordSchema.js';

function fail(source: string, why: string): never {
  throw Errors.badRecord(source, why);
}

/** Reads and validates a record file. */
export function readRecord(file: string): RunRecord {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw Errors.unreadableRecord(file, error instanceof Error ? error.message : String(error));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    fail(file, `it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validateRecord(doc, file);
}
