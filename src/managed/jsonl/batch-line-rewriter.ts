/**
 * Rewrites the lines of a (validated) batch input file while streaming it to a provider:
 * `body.model` from the model group to what the deployment expects (the upstream model; for
 * Azure the deployment name), and `url` in its canonical `/v1/...` form (`readBatchInputLines`).
 * One line in memory at a time.
 */
import { Readable } from 'node:stream';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';
import { readBatchInputLines } from './batch-input-lines.ts';

/** A line as it is written out: OpenAI's, or a provider's own format of it (Mistral's). */
export type LineRewrite = (line: BatchInputLine) => BatchInputLine | Record<string, unknown>;

/**
 * Rewritten lines go out in chunks of about this size (a chunk of the stream window, plus the
 * line that crossed it): fewer, larger writes downstream.
 */
const CHUNK_CHARS = STREAM_CHUNK_BYTES;

export async function* rewriteLines(source: AsyncIterable<Buffer | Uint8Array | string>, rewrite: LineRewrite): AsyncGenerator<Buffer> {
  let pending: string[] = [];
  let pendingChars = 0;
  for await (const line of readBatchInputLines(source)) {
    const rewritten = `${JSON.stringify(rewrite(line))}\n`;
    pending.push(rewritten);
    pendingChars += rewritten.length;
    if (pendingChars >= CHUNK_CHARS) {
      yield Buffer.from(pending.join(''));
      pending = [];
      pendingChars = 0;
    }
  }
  if (pending.length > 0) yield Buffer.from(pending.join(''));
}

export function rewrittenStream(source: AsyncIterable<Buffer | Uint8Array | string>, rewrite: LineRewrite): Readable {
  // The generator runs only while the reader is under its window: one chunk rewritten ahead.
  return Readable.from(rewriteLines(source, rewrite), { objectMode: false, highWaterMark: STREAM_WINDOW_BYTES });
}

/** The rewrite that places a line on a deployment: only `body.model` changes. */
export function withBodyModel(model: string): (line: BatchInputLine) => BatchInputLine {
  return (line) => ({ ...line, body: { ...line.body, model } });
}
