/**
 * Entry point of a Skein worker thread (loaded by piscina): runs one batch per call.
 */
import { threadId } from 'node:worker_threads';
import type { WireBatch, WireResult } from './protocol.js';
import { runBatch } from './runBatch.js';

export default function run(batch: WireBatch): Promise<WireResult> {
  return runBatch(batch, `thread-${threadId}`);
}
