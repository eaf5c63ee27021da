/**
 * A finished Gemini batch's results -> `InlineBatchResult`s keyed by the `key` Portico sent.
 * (https://ai.google.dev/gemini-api/docs/batch-api#retrieve-batch-results, `docs/specs/gemini-api.md`)
 *
 * Inline batches answer `inlinedResponses` (each `{response | error, metadata: {key}}`, in request
 * order); file batches a JSONL responses file whose lines are `{key, response | error}`. A
 * response becomes a chat.completion (status 200), an error (`google.rpc.Status`) an HTTP error
 * line with the status its code maps to and OpenAI's error body.
 */
import type { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { sseLines } from '../http/sse.ts';
import { translateGenerateContentResponse, type ChatResponseTranslationOptions } from './chat-response.ts';
import { googleStatusToErrorLine } from './errors.ts';
import { isRecord } from './json.ts';
import type { GeminiGenerateContentResponse } from './wire-types.ts';

/** One result (`{response}` or `{error}`) under its key. */
export function translateBatchResult(key: string, result: Record<string, unknown>, options: ChatResponseTranslationOptions): InlineBatchResult {
  if (isRecord(result.response)) {
    const response = result.response as GeminiGenerateContentResponse;
    const body = translateGenerateContentResponse(response, options);
    return { customId: key, outcome: { type: 'succeeded', statusCode: 200, requestId: response.responseId ?? '', body } };
  }
  if (isRecord(result.error)) {
    const { status, body } = googleStatusToErrorLine(result.error);
    return { customId: key, outcome: { type: 'http_error', statusCode: status, requestId: '', body } };
  }
  throw malformedResults(`a result for '${key}' with neither response nor error`);
}

/**
 * Inline responses; a response without its key takes the key of the request at its position
 * (`requestKeys`, from the batch's input), as Google answers in request order.
 */
export function* translateInlinedResponses(responses: readonly unknown[], requestKeys: readonly (string | undefined)[], options: ChatResponseTranslationOptions): Generator<InlineBatchResult> {
  for (const [index, item] of responses.entries()) {
    if (!isRecord(item)) throw malformedResults('an inlined response that is not an object');
    const key = (isRecord(item.metadata) && typeof item.metadata.key === 'string' ? item.metadata.key : undefined) ?? requestKeys[index];
    if (key === undefined) throw malformedResults('an inlined response without its key');
    yield translateBatchResult(key, item, options);
  }
}

/** Streams a responses file: one result per line, never more than one line held. */
export async function* parseResponsesFile(body: AsyncIterable<Uint8Array>, options: ChatResponseTranslationOptions): AsyncGenerator<InlineBatchResult> {
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    const line = parseLine(text);
    if (typeof line.key !== 'string') throw malformedResults('a line without its key');
    yield translateBatchResult(line.key, line, options);
  }
}

function parseLine(text: string): Record<string, unknown> {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    throw malformedResults('a line that is not JSON');
  }
  if (!isRecord(line)) throw malformedResults('a line that is not an object');
  return line;
}

function malformedResults(what: string): UpstreamError {
  return badUpstreamResponse(`Gemini's batch results contain ${what}.`, { isRetryable: false });
}
