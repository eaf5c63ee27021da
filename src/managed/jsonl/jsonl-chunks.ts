/**
 * Packs text lines into byte chunks of at most `chunkBytes` (default `STREAM_CHUNK_BYTES`,
 * 64 KiB) for a file stream: a result file of 10,000 lines is written in about as many writes as
 * it has 64 KiB, not one write (one Buffer, one trip through every stage of the pipeline) per
 * line, and no chunk is larger than a file read, whatever a line's size: a line longer than a
 * chunk is cut across chunks (the bytes are the same, only where the writes fall differs).
 *
 * Each chunk is a fresh Buffer: the stages downstream may still hold the previous one.
 */
import { STREAM_CHUNK_BYTES } from '../../spec/stream-window.ts';

export async function* packLines(lines: AsyncIterable<string> | Iterable<string>, chunkBytes: number = STREAM_CHUNK_BYTES): AsyncGenerator<Buffer> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 4) throw new RangeError(`chunkBytes must be an integer of at least 4, got ${chunkBytes}`);
  let chunk = Buffer.allocUnsafe(chunkBytes);
  let filled = 0;
  for await (const line of lines) {
    const bytes = Buffer.byteLength(line);
    if (bytes <= chunkBytes - filled) {
      filled += chunk.write(line, filled);
      continue;
    }
    // The line does not fit in what is left: cut it across as many chunks as it takes.
    const encoded = Buffer.from(line);
    let offset = 0;
    while (offset < encoded.length) {
      const take = encoded.copy(chunk, filled, offset, Math.min(encoded.length, offset + chunkBytes - filled));
      filled += take;
      offset += take;
      if (filled === chunkBytes) {
        yield chunk;
        chunk = Buffer.allocUnsafe(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled);
}
