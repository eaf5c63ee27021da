/**
 * Writes a finished batch's result lines into the gateway's blob store as a JSONL file,
 * counting lines and summing usage on the way: one pass, streamed in chunks of at most 64 KiB
 * (`packLines`), encoded only while the store's window has room, so memory holds a chunk or two
 * whatever the file's size. The store keeps nothing of a put that failed (`BlobStore.put`). Every
 * line's error messages pass through the redactor on the way: this is where every executor's
 * result lines (the engine's, a provider's result file, Anthropic's errored results) are written.
 * The engine's lines come as their stored JSON text where they carry no error message
 * (`EncodedResultLine`): a 10,000-line batch is not parsed and encoded again line by line.
 */
import { Readable } from 'node:stream';
import type { BatchUsage } from '../../spec/openai-objects.ts';
import type { Redactor } from '../../spec/redaction.ts';
import { STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';
import type { BlobStore, StoredBlob } from '../../storage/blob-store.ts';
import { packLines } from '../jsonl/jsonl-chunks.ts';
import { addEncodedLineUsage, addLineUsage, emptyUsage, isEncodedLine, redactLine, type ResultLine } from './result-lines.ts';

export interface MaterialisedResults {
  blob: StoredBlob;
  lines: number;
  usage: BatchUsage;
}

/** Stores the lines; answers null (keeping nothing) when there were none. */
export async function materialiseResults(blobs: BlobStore, lines: AsyncIterable<ResultLine>, redact: Redactor): Promise<MaterialisedResults | null> {
  let count = 0;
  const usage = emptyUsage();
  async function* jsonl(): AsyncGenerator<string> {
    for await (const line of lines) {
      count += 1;
      if (isEncodedLine(line)) {
        addEncodedLineUsage(usage, line);
        yield `${line.json}\n`;
        continue;
      }
      addLineUsage(usage, line);
      yield `${JSON.stringify(redactLine(line, redact))}\n`;
    }
  }
  // Lines are encoded only while the store's window has room: a chunk or two ahead of the store.
  const blob = await blobs.put(Readable.from(packLines(jsonl()), { objectMode: false, highWaterMark: STREAM_WINDOW_BYTES }));
  if (count === 0) {
    await blobs.delete(blob.key);
    return null;
  }
  return { blob, lines: count, usage };
}
