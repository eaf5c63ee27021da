/**
 * Google API errors -> Portico's errors in OpenAI's envelope. Pure.
 *
 * Google answers `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
 * "details": [...]}}` (https://ai.google.dev/gemini-api/docs/troubleshooting,
 * https://cloud.google.com/apis/design/errors, `docs/specs/gemini-api.md` §Errors); batch
 * requests that failed carry the same `google.rpc.Status` without the HTTP status. The HTTP status
 * is what the upstream said; the `status` word fills in when there is none. Two quirks:
 * an invalid API key is a 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID` at Google, a 401
 * for OpenAI clients; a 429's `RetryInfo.retryDelay` ("30s") becomes `retry-after` when the
 * answer had no such header.
 */
import { UpstreamError, type OpenAIErrorBody } from '../../spec/errors.ts';
import { isRecord } from './json.ts';
import type { GoogleStatus } from './wire-types.ts';

/** google.rpc.Code names -> HTTP status (https://cloud.google.com/apis/design/errors#handling_errors). */
const STATUS_WORDS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNKNOWN: 500,
  INTERNAL: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export interface GoogleErrorInput {
  /** HTTP status of the answer; absent for a failed batch request or an error inside a stream. */
  httpStatus?: number;
  /** The parsed body (`{error: Status}`), or a bare `Status`, or anything else. */
  body: unknown;
  retryAfter?: string;
  deploymentId?: string;
  /** Names the upstream in the fallback message ("Gemini"). */
  upstream?: string;
}

export function googleErrorToUpstreamError(input: GoogleErrorInput): UpstreamError {
  const status = statusOf(input.body);
  const apiKeyInvalid = reasonsOf(status).includes('API_KEY_INVALID');
  const word = status.status;
  const httpStatus = apiKeyInvalid
    ? 401
    : input.httpStatus !== undefined && input.httpStatus >= 400
      ? input.httpStatus
      : (word !== undefined ? STATUS_WORDS[word] : undefined) ?? (typeof status.code === 'number' && status.code >= 400 ? status.code : 500);
  const body: OpenAIErrorBody = {
    message: status.message ?? `${input.upstream ?? 'Gemini'} answered with HTTP ${input.httpStatus ?? httpStatus}.`,
    type: openAITypeForStatus(httpStatus),
    param: null,
    code: apiKeyInvalid ? 'invalid_api_key' : (failureCodeOf(httpStatus, status.message) ?? word?.toLowerCase() ?? null),
  };
  const retryAfter = input.retryAfter ?? retryDelayOf(status);
  return new UpstreamError(httpStatus, body, {
    deploymentId: input.deploymentId,
    headers: retryAfter !== undefined ? { 'retry-after': retryAfter } : undefined,
  });
}

/** The OpenAI error envelope and status for a failed batch request's `google.rpc.Status`. */
export function googleStatusToErrorLine(status: unknown): { status: number; body: { error: OpenAIErrorBody } } {
  const error = googleErrorToUpstreamError({ body: status });
  return { status: error.httpStatus, body: error.toBody() };
}

/** OpenAI's codes for failures Gemini states only in words; routing reads them for fallbacks. */
function failureCodeOf(httpStatus: number, message: string | undefined): string | undefined {
  if (httpStatus !== 400 || message === undefined) return undefined;
  if (/input token count.*exceeds|exceeds the maximum number of tokens|context (window|length)/i.test(message)) return 'context_length_exceeded';
  return undefined;
}

function statusOf(body: unknown): GoogleStatus {
  // A streamed call's error may come wrapped in a one-element array.
  const value = Array.isArray(body) ? body[0] : body;
  if (!isRecord(value)) return {};
  const inner = isRecord(value.error) ? value.error : value;
  return {
    code: typeof inner.code === 'number' ? inner.code : undefined,
    message: typeof inner.message === 'string' && inner.message !== '' ? inner.message : undefined,
    status: typeof inner.status === 'string' ? inner.status : undefined,
    details: Array.isArray(inner.details) ? inner.details : undefined,
  };
}

function reasonsOf(status: GoogleStatus): string[] {
  return (status.details ?? []).flatMap((detail) => (isRecord(detail) && typeof detail.reason === 'string' ? [detail.reason] : []));
}

/** `RetryInfo.retryDelay` ("30s", "1.5s") as whole seconds for `retry-after`. */
function retryDelayOf(status: GoogleStatus): string | undefined {
  for (const detail of status.details ?? []) {
    if (!isRecord(detail) || typeof detail.retryDelay !== 'string') continue;
    const seconds = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay)?.[1];
    if (seconds !== undefined) return String(Math.ceil(Number(seconds)));
  }
  return undefined;
}

function openAITypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}
