/**
 * Anthropic batch results JSONL -> `InlineBatchResult`s, line by line as the bytes arrive.
 * Mapping per `docs/specs/WIRE.md` §3.1 ("Result lines"): succeeded -> a chat.completion
 * (status 200, request id = message id); errored -> an HTTP error with the status of its error
 * type and OpenAI's error body; canceled -> cancelled; expired -> expired.
 */
import type { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { sseLines } from '../http/sse.ts';
import { translateMessageToChatCompletion } from './chat-response.ts';
import { anthropicErrorBody } from './errors.ts';
import { isRecord } from './json.ts';
import type { AnthropicMessage } from './wire-types.ts';

export interface BatchResultTranslationOptions {
  /** `created` of the chat.completion bodies: the batch's `ended_at`, unix seconds. */
  created: number;
  fallbackModel: string;
}

export function translateBatchResultLine(line: unknown, options: BatchResultTranslationOptions): InlineBatchResult {
  if (!isRecord(line) || typeof line.custom_id !== 'string' || !isRecord(line.result)) {
    throw malformedResults('a line without custom_id or result');
  }
  const result = line.result;
  switch (result.type) {
    case 'succeeded': {
      if (!isRecord(result.message) || typeof result.message.id !== 'string') throw malformedResults('a succeeded line without a message');
      const message = result.message as unknown as AnthropicMessage;
      const body = translateMessageToChatCompletion(message, options);
      return { customId: line.custom_id, outcome: { type: 'succeeded', statusCode: 200, requestId: message.id, body } };
    }
    case 'errored': {
      const { status, body } = anthropicErrorBody(result.error);
      const requestId = isRecord(result.error) && typeof result.error.request_id === 'string' ? result.error.request_id : '';
      return { customId: line.custom_id, outcome: { type: 'http_error', statusCode: status, requestId, body } };
    }
    case 'canceled':
      return { customId: line.custom_id, outcome: { type: 'cancelled' } };
    case 'expired':
      return { customId: line.custom_id, outcome: { type: 'expired' } };
    default:
      throw malformedResults(`a result of unknown type '${String(result.type)}'`);
  }
}

/** Streams the JSONL body: one result per line, never more than one line held. */
export async function* parseBatchResults(body: AsyncIterable<Uint8Array>, options: BatchResultTranslationOptions): AsyncGenerator<InlineBatchResult> {
  // The SSE line splitter is a plain LF/CRLF splitter: JSONL needs nothing more.
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw malformedResults('a line that is not JSON');
    }
    yield translateBatchResultLine(line, options);
  }
}

function malformedResults(what: string): UpstreamError {
  return badUpstreamResponse(`Anthropic's batch results contain ${what}.`, { isRetryable: false });
}
