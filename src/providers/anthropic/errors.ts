/**
 * Anthropic errors -> Portico's errors in OpenAI's envelope. Pure.
 *
 * Anthropic's body is `{"type":"error","error":{"type","message"},"request_id"}`; its error
 * types and statuses are listed at https://docs.anthropic.com/en/api/errors and in
 * `docs/specs/WIRE.md` §3.
 *
 * Decision: `overloaded_error` (HTTP 529, a status of Anthropic's own) is answered as 503,
 * retryable. 529 is not a registered HTTP status: OpenAI clients, proxies and our own retry
 * policy know 503 as "temporarily unavailable, try again" and may treat an unknown 5xx
 * differently. The Anthropic type survives in `code` (`overloaded_error`). The same mapping is
 * used for errored batch results, so a line's `status_code` agrees with what a live call says.
 */
import { UpstreamError, type OpenAIErrorBody } from '../../spec/errors.ts';
import { isRecord } from './json.ts';
import type { AnthropicErrorDetail } from './wire-types.ts';

interface ErrorMapping {
  status: number;
  /** OpenAI's `error.type` word. */
  type: string;
}

const ERROR_MAPPINGS: Readonly<Record<string, ErrorMapping>> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  authentication_error: { status: 401, type: 'authentication_error' },
  billing_error: { status: 402, type: 'invalid_request_error' },
  permission_error: { status: 403, type: 'permission_error' },
  not_found_error: { status: 404, type: 'not_found_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_error: { status: 429, type: 'rate_limit_error' },
  api_error: { status: 500, type: 'api_error' },
  timeout_error: { status: 504, type: 'timeout_error' },
  overloaded_error: { status: 503, type: 'server_error' },
};

/** Anthropic's own status for overload; see the decision above. */
export const ANTHROPIC_OVERLOADED_STATUS = 529;

/** The status Portico answers for an Anthropic error type (`null` for a type we do not know). */
export function statusForAnthropicErrorType(type: string | undefined): number | null {
  return type !== undefined && Object.hasOwn(ERROR_MAPPINGS, type) ? ERROR_MAPPINGS[type].status : null;
}

export interface AnthropicErrorInput {
  /** HTTP status of the response; absent for errors inside a stream or a batch result. */
  httpStatus?: number;
  /** The parsed body (`ErrorResponse`), or just its `error` member, or anything else. */
  body: unknown;
  /** `retry-after` response header, passed on to the client and the retry policy. */
  retryAfter?: string;
  deploymentId?: string;
}

/**
 * Anthropic states these failures only in its message ("prompt is too long: 210000 tokens >
 * 200000 maximum"; "Output blocked by content filtering policy"); they get OpenAI's codes, which
 * routing reads for `context_window_fallbacks` / `content_policy_fallbacks` (LiteLLM matches the
 * same phrases in `exception_mapping_utils.py`).
 */
function failureCodeOf(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  if (/prompt is too long|exceed(s|ed)? (the )?context (window|limit)/i.test(message)) return 'context_length_exceeded';
  if (/content filtering policy/i.test(message)) return 'content_policy_violation';
  return undefined;
}

export function anthropicErrorToUpstreamError(input: AnthropicErrorInput): UpstreamError {
  const detail = errorDetailOf(input.body);
  const known = detail.type !== undefined && Object.hasOwn(ERROR_MAPPINGS, detail.type) ? ERROR_MAPPINGS[detail.type] : undefined;
  const status = statusOf(input.httpStatus, known);
  const body: OpenAIErrorBody = {
    message: detail.message ?? `Anthropic answered with HTTP ${input.httpStatus ?? status}.`,
    type: known?.type ?? openAITypeForStatus(status),
    param: null,
    code: (status === 400 ? failureCodeOf(detail.message) : undefined) ?? detail.type ?? null,
  };
  return new UpstreamError(status, body, {
    deploymentId: input.deploymentId,
    headers: input.retryAfter !== undefined ? { 'retry-after': input.retryAfter } : undefined,
  });
}

/** The OpenAI error envelope for a batch result line's `response.body`. */
export function anthropicErrorBody(body: unknown): { status: number; body: { error: OpenAIErrorBody } } {
  const error = anthropicErrorToUpstreamError({ body });
  return { status: error.httpStatus, body: error.toBody() };
}

function statusOf(httpStatus: number | undefined, known: ErrorMapping | undefined): number {
  if (httpStatus === ANTHROPIC_OVERLOADED_STATUS) return 503;
  // The HTTP status is what the upstream said; the type only fills in when there is none.
  if (httpStatus !== undefined && httpStatus >= 400) return httpStatus;
  return known?.status ?? 500;
}

function openAITypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** Accepts the full `ErrorResponse` or its bare `error` member (older batch result lines). */
function errorDetailOf(body: unknown): AnthropicErrorDetail {
  if (!isRecord(body)) return {};
  const inner = isRecord(body.error) ? body.error : body;
  return {
    type: typeof inner.type === 'string' && inner.type !== 'error' ? inner.type : undefined,
    message: typeof inner.message === 'string' ? inner.message : undefined,
  };
}
