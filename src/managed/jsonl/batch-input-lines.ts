/**
 * The request lines of a stored batch input file, parsed one at a time (blank lines skipped, as
 * the upload validator skips them), each with `url` in the canonical `/v1/...` form the
 * validator accepted it as (`normaliseBatchEndpoint`: Azure users write `/chat/completions`).
 * The engine, the placement of provider copies and the inline executor read lines only through
 * here, so none of them meets a spelling of the endpoint it does not know.
 */
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { normaliseBatchEndpoint } from './batch-input-validator.ts';
import { readLines, type LineSplitterOptions } from './line-splitter.ts';

export async function* readBatchInputLines(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: LineSplitterOptions = {},
): AsyncGenerator<BatchInputLine> {
  for await (const { line } of readLines(source, options)) {
    // A byte order mark (Windows tools write one before the first line) is not part of the JSON;
    // the upload's check (`batch-input-validator.ts`, a TextDecoder) accepted the line without it.
    const decoded = line.toString('utf8');
    const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
    if (text.trim() === '') continue;
    yield canonicalLine(JSON.parse(text) as BatchInputLine);
  }
}

function canonicalLine(line: BatchInputLine): BatchInputLine {
  const url = typeof line.url === 'string' ? normaliseBatchEndpoint(line.url) : null;
  return url === null || url === line.url ? line : { ...line, url };
}
