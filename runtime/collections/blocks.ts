/**
 * A block of a text file, as bags (lines) and dataframes (CSV rows) split files: the lines that
 * start in bytes [start, end). A line that crosses `end` belongs to this block, one that crosses
 * `start` to the block before, so blocks of any size give every line once.
 */
import { createReadStream } from 'node:fs';

/** The byte ranges [start, end) of a file's blocks from `from` to `size` (end null: to the end): one, without a `blocksize`. */
export function blockRanges(from: number, size: number, blocksize: number | undefined): Array<[start: number, end: number | null]> {
  if (blocksize === undefined || size - from <= blocksize) return [[from, null]];
  const ranges: Array<[number, number | null]> = [];
  for (let start = from; start < size; start += blocksize) ranges.push([start, start + blocksize >= size ? null : start + blocksize]);
  return ranges;
}

/** The bytes of the block's lines, as they are read (end null: to the end of the file). */
export async function* blockBytes(path: string, start: number, end: number | null): AsyncGenerator<Buffer> {
  // a block that starts inside a line skips it: reading from the byte before `start` tells
  const from = Math.max(0, start - 1);
  const input = createReadStream(path, { start: from, highWaterMark: 1 << 20 });
  let skipping = start > 0;
  let at = from;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let piece = chunk;
      let pieceStart = at;
      at += chunk.length;
      if (skipping) {
        const nl = piece.indexOf(10);
        if (nl < 0) continue;
        // the rest of the line the byte before `start` is in (just its newline when a line starts at `start`)
        skipping = false;
        piece = piece.subarray(nl + 1);
        pieceStart += nl + 1;
        if (end !== null && pieceStart >= end) return;
      }
      // the last line is the one holding byte end - 1: up to its newline
      if (end !== null && pieceStart + piece.length > end - 1) {
        const nl = piece.indexOf(10, Math.max(0, end - 1 - pieceStart));
        if (nl >= 0) {
          yield piece.subarray(0, nl + 1);
          return;
        }
      }
      yield piece;
    }
  } finally {
    input.destroy();
  }
}
