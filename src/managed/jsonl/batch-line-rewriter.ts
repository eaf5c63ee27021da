/**
 * Rewrites the lines of a (validated) batch input file while streaming it to a provider:
 * `body.model` from the model group to what the deployment expects (the upstream model; for
 * Azure the deployment name). One line in memory at a time.
 */
import { Readable } from 'node:stream';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { readLines } from './line-splitter.ts';

export type LineRewrite = (line: BatchInputLine) => BatchInputLine;

export async function* rewriteLines(source: AsyncIterable<Buffer | Uint8Array | string>, rewrite: LineRewrite): AsyncGenerator<Buffer> {
  for await (const { line } of readLines(source)) {
    if (line.length === 0 || line.toString('utf8').trim() === '') continue;
    const parsed = JSON.parse(line.toString('utf8')) as BatchInputLine;
    yield Buffer.from(`${JSON.stringify(rewrite(parsed))}\n`);
  }
}

export function rewrittenStream(source: AsyncIterable<Buffer | Uint8Array | string>, rewrite: LineRewrite): Readable {
  return Readable.from(rewriteLines(source, rewrite), { objectMode: false });
}

/** The rewrite that places a line on a deployment: only `body.model` changes. */
export function withBodyModel(model: string): LineRewrite {
  return (line) => ({ ...line, body: { ...line.body, model } });
}

/** Bytes the rewritten file will have: providers need a size before the upload starts. */
export async function rewrittenSize(source: AsyncIterable<Buffer | Uint8Array | string>, rewrite: LineRewrite): Promise<number> {
  let bytes = 0;
  for await (const chunk of rewriteLines(source, rewrite)) bytes += chunk.length;
  return bytes;
}
