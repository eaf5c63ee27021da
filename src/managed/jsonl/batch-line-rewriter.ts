/**
 * Rewrites the lines of a (validated) batch input file while streaming it to a provider:
 * `body.model` from the model group to what the deployment expects (the upstream model; for
 * Azure the deployment name), and `url` in its canonical `/v1/...` form (`readBatchInputLines`).
 * One line in memory at a time.
 */
import { Readable } from 'node:stream';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { readBatchInputLines } from './batch-input-lines.ts';

/** A line as it is written out: OpenAI's, or a provider's own format of it (Mistral's). */
export type LineRewrite = (line: BatchInputLine) => BatchInputLine | Record<string, unknown>;

/** Rewritten lines go out in chunks of about this size: fewer, larger writes downstream. */
const CHUNK_CHARS = 64 * 1024;

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
  return Readable.from(rewriteLines(source, rewrite), { objectMode: false });
}

/** The rewrite that places a line on a deployment: only `body.model` changes. */
export function withBodyModel(model: string): (line: BatchInputLine) => BatchInputLine {
  return (line) => ({ ...line, body: { ...line.body, model } });
}
