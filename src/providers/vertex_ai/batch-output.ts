/**
 * A finished batch prediction job's output files -> `InlineBatchResult`s keyed by the label
 * Portico put in each request (`batch-input.ts`).
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage
 * §Retrieve batch output, `docs/specs/vertex-ai.md` §Batch prediction)
 *
 * Each line of `predictions*.jsonl` is `{"status", "processed_time", "request", "response"}`: a
 * succeeded row has an empty `status` and a `GenerateContentResponse`; a failed row has the
 * failure in `status` (a message, often with the `google.rpc.Status` JSON in it) and no response.
 * The job's `errors*.jsonl` files, where a job writes them, carry `error: {code, message}`.
 */
import type { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { translateBatchResult } from '../gemini/batch-results.ts';
import type { ChatResponseTranslationOptions } from '../gemini/chat-response.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { sseLines } from '../http/sse.ts';
import { KEY_LABEL } from './batch-input.ts';

/** Output files of a job's directory, as Vertex names them. */
export function isResultFile(name: string): boolean {
  return /(^|\/)(predictions|errors)[^/]*\.jsonl$/.test(name);
}

/** One output line -> a result; `null` for a line without Portico's key (not ours). */
export function translateOutputLine(line: Record<string, unknown>, options: ChatResponseTranslationOptions): InlineBatchResult | null {
  const key = keyOf(line);
  if (key === undefined) return null;
  if (isRecord(line.response) && (line.status === undefined || line.status === '')) return translateBatchResult(key, { response: line.response }, options);
  if (isRecord(line.error)) return translateBatchResult(key, { error: line.error }, options);
  return translateBatchResult(key, { error: statusOfFailure(line.status) }, options);
}

/** Streams one output file: one result per line, never more than one line held. */
export async function* parseOutputFile(body: AsyncIterable<Uint8Array>, options: ChatResponseTranslationOptions): AsyncGenerator<InlineBatchResult> {
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    const result = translateOutputLine(parseLine(text), options);
    if (result !== null) yield result;
  }
}

/** The keys of the job's input file (`{"request": {..., "labels": {...}}}` lines), streamed. */
export async function* keysOfInputFile(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    const key = keyOf(parseLine(text));
    if (key !== undefined) yield key;
  }
}

function keyOf(line: Record<string, unknown>): string | undefined {
  const request = isRecord(line.request) ? line.request : undefined;
  const labels = request !== undefined && isRecord(request.labels) ? request.labels : undefined;
  const key = labels?.[KEY_LABEL];
  return typeof key === 'string' ? key : undefined;
}

/**
 * A failed row's `status`: the `google.rpc.Status` JSON inside it when there is one
 * (`"Bad Request: {\"error\": {...}}"`), else the message as an internal error.
 */
export function statusOfFailure(status: unknown): Record<string, unknown> {
  const text = typeof status === 'string' && status !== '' ? status : 'The request failed in the batch prediction job.';
  const brace = text.indexOf('{');
  if (brace >= 0) {
    try {
      const parsed = JSON.parse(text.slice(brace)) as unknown;
      const inner = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : parsed;
      if (isRecord(inner) && (typeof inner.code === 'number' || typeof inner.status === 'string')) return inner;
    } catch {
      // Not JSON after all: the words are the message.
    }
  }
  return { code: 500, status: 'INTERNAL', message: text };
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
