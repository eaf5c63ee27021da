/**
 * Cohere errors -> Portico's errors in OpenAI's envelope. Pure.
 *
 * Cohere answers a non-2xx status with `{"id": "...", "message": "..."}`
 * (https://docs.cohere.com/reference/errors; the `cohere-ai` SDK raises one class per status:
 * 400, 401, 403, 404, 422, 429, 498, 499, 500, 501, 503, 504). The HTTP status is what the
 * client sees, as Cohere said it, with two exceptions:
 * - 498 ("invalid token": a blocked or expired key) is no status OpenAI clients know: it is
 *   answered 401, `code: invalid_api_key`, as the bad key it is;
 * - an answer that is not an HTTP error (a failed generation reported in a 200, an error met in a
 *   stream) has no status: 500, retryable.
 *
 * Cohere states a prompt over the context window only in words ("too many tokens: size limit
 * exceeded by 11326 tokens..."): such a 400 gets OpenAI's `context_length_exceeded`, which routing
 * reads for `context_window_fallbacks` (LiteLLM's exception mapping matches "too many tokens" for
 * Cohere too). "too many tokens: max tokens must be less than or equal to 4096" is about
 * `max_tokens`, not the prompt, and keeps no such code.
 */
import { UpstreamError, type OpenAIErrorBody } from '../../spec/errors.ts';
import { isRecord } from './json.ts';

/** Cohere's own status for an invalid (blocked, expired) token; see the decision above. */
export const COHERE_INVALID_TOKEN_STATUS = 498;

export interface CohereErrorInput {
  /** HTTP status of the answer; absent for an error inside a stream or a failed generation. */
  httpStatus?: number;
  /** The parsed body (`{id, message}`), or anything else. */
  body: unknown;
  /** `retry-after` response header, passed on to the client and the retry policy. */
  retryAfter?: string;
  deploymentId?: string;
}

export function cohereErrorToUpstreamError(input: CohereErrorInput): UpstreamError {
  const message = messageOf(input.body);
  const status = statusOf(input.httpStatus);
  const body: OpenAIErrorBody = {
    message: message ?? `Cohere answered with HTTP ${input.httpStatus ?? status}.`,
    type: openAITypeForStatus(status),
    param: null,
    code: codeOf(status, message),
  };
  return new UpstreamError(status, body, {
    deploymentId: input.deploymentId,
    headers: input.retryAfter !== undefined ? { 'retry-after': input.retryAfter } : undefined,
  });
}

function statusOf(httpStatus: number | undefined): number {
  if (httpStatus === COHERE_INVALID_TOKEN_STATUS) return 401;
  return httpStatus !== undefined && httpStatus >= 400 ? httpStatus : 500;
}

function codeOf(status: number, message: string | undefined): string | null {
  if (status === 400 && message !== undefined && isContextLengthMessage(message)) return 'context_length_exceeded';
  if (status === 401) return 'invalid_api_key';
  if (status === 404 && message !== undefined && /\bmodel\b/i.test(message)) return 'model_not_found';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

function isContextLengthMessage(message: string): boolean {
  if (/max(imum)?[ _]tokens must be/i.test(message)) return false;
  return /too many tokens|context (length|window)|prompt is too long/i.test(message);
}

function openAITypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** `message` of Cohere's body; a bare string body (a proxy's) is its own message. */
function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : body.trim();
  if (!isRecord(body)) return undefined;
  const inner = isRecord(body.error) ? body.error : body;
  return typeof inner.message === 'string' && inner.message !== '' ? inner.message : undefined;
}
