/**
 * OpenAI batch output lines of the outcomes a provider's batch reports per request: what a
 * request that expired or was cancelled before it ran reads like in the error file, as OpenAI
 * writes it. For providers whose result parsers answer `InlineBatchResult`s.
 */
import type { BatchOutputLine } from './openai-objects.ts';
import type { InlineBatchResult } from './provider.ts';

/** The line of one result, keyed by the `custom_id` it was sent with; `id` left to Portico (empty). */
export function batchOutputLineOf(result: InlineBatchResult): BatchOutputLine {
  const outcome = result.outcome;
  switch (outcome.type) {
    case 'succeeded':
    case 'http_error':
      return { id: '', custom_id: result.customId, response: { status_code: outcome.statusCode, request_id: outcome.requestId, body: outcome.body }, error: null };
    case 'expired':
      return { id: '', custom_id: result.customId, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } };
    case 'cancelled':
      return { id: '', custom_id: result.customId, response: null, error: { code: 'batch_cancelled', message: 'This request was cancelled before it could be executed.' } };
  }
}
