/**
 * A finished batch prediction job's output files -> `InlineBatchResult`s keyed by the key Portico
 * put in each input line; what a row looks like is the model family's (`batch-family.ts`).
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage
 * §Retrieve batch output, `docs/specs/vertex-ai.md` §Batch prediction)
 *
 * The job writes `predictions*.jsonl` files (and, where it does, `errors*.jsonl`) into its
 * output directory; each row carries the request as it was sent, so its key, and either a
 * `response` or the failure (`status`, `error`).
 */
import type { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { sseLines } from '../http/sse.ts';
import type { BatchResultTranslationOptions, VertexBatchFamily } from './batch-family.ts';

/** Output files of a job's directory, as Vertex names them. */
export function isResultFile(name: string): boolean {
  return /(^|\/)(predictions|errors)[^/]*\.jsonl$/.test(name);
}

/** One output row -> a result; `null` for a row without Portico's key (not ours). */
export function translateOutputLine(family: VertexBatchFamily, row: Record<string, unknown>, options: BatchResultTranslationOptions): InlineBatchResult | null {
  const key = family.keyOf(row);
  return key === undefined ? null : family.decodeRow(key, row, options);
}

/** Streams one output file: one result per line, never more than one line held. */
export async function* parseOutputFile(family: VertexBatchFamily, body: AsyncIterable<Uint8Array>, options: BatchResultTranslationOptions): AsyncGenerator<InlineBatchResult> {
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    const result = translateOutputLine(family, parseLine(text), options);
    if (result !== null) yield result;
  }
}

/**
 * A failed row's `status` text and the JSON inside it, if any: Vertex's text is a reason phrase
 * with the error's JSON after it (`"Bad Request: {\"error\": {...}}"`); its exact form is not
 * documented, so the JSON is looked for from the first brace.
 */
export function jsonInStatus(status: unknown): { json: unknown; text: string } {
  const text = typeof status === 'string' && status !== '' ? status : 'The request failed in the batch prediction job.';
  const brace = text.indexOf('{');
  if (brace >= 0) {
    try {
      return { json: JSON.parse(text.slice(brace)) as unknown, text };
    } catch {
      // Not JSON after all: the words are the message.
    }
  }
  return { json: undefined, text };
}

function parseLine(text: string): Record<string, unknown> {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    throw malformed('a line that is not JSON');
  }
  if (!isRecord(line)) throw malformed('a line that is not an object');
  return line;
}

function malformed(what: string): UpstreamError {
  return badUpstreamResponse(`Vertex AI's batch output contains ${what}.`, { isRetryable: false });
}
