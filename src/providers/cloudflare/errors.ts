/**
 * Workers AI errors -> Portico's errors in OpenAI's envelope. Pure.
 *
 * Cloudflare's v4 API answers an error as `{"success": false, "errors": [{"code", "message"}],
 * "messages": [], "result": null}` with an HTTP status
 * (https://developers.cloudflare.com/api/resources/ai/methods/run/); Workers AI's own codes and
 * statuses are listed at https://developers.cloudflare.com/workers-ai/platform/errors/ (5007 "No
 * such model" 400, 3036 "Account limited" and 3040 "Out of capacity" 429, 3007 timeout 408, ...),
 * the API's at large include 10000 "Authentication error" and 7003 "Could not route to ...".
 *
 * The client sees the status Cloudflare answered (it says what the client may do: 401 fix the
 * key, 429 wait, 5xx retry), the messages as Cloudflare wrote them, and Cloudflare's numeric
 * code as the `code` string, except that a prompt over the model's context window gets OpenAI's
 * `context_length_exceeded` (routing reads it for `context_window_fallbacks`).
 */
import { UpstreamError, type OpenAIErrorBody } from '../../spec/errors.ts';
import { isRecord } from './json.ts';
import type { CloudflareErrorItem } from './wire-types.ts';

export interface CloudflareErrorInput {
  /** HTTP status of the answer; absent for an error inside a stream (then 500, or 502 for a 2xx). */
  httpStatus?: number;
  /** The parsed body (the v4 envelope), or anything else. */
  body: unknown;
  /** `retry-after` response header, passed on to the client and the retry policy. */
  retryAfter?: string;
  deploymentId?: string;
}

export function cloudflareErrorToUpstreamError(input: CloudflareErrorInput): UpstreamError {
  const items = errorItemsOf(input.body);
  const status = input.httpStatus !== undefined && input.httpStatus >= 400 ? input.httpStatus : input.httpStatus === undefined ? 500 : 502;
  const messages = items.map((item) => item.message).filter((message): message is string => typeof message === 'string' && message !== '');
  const code = items.find((item) => item.code !== undefined)?.code;
  const message = messages.length > 0 ? messages.join('; ') : `Cloudflare Workers AI answered with HTTP ${input.httpStatus ?? status}.`;
  const body: OpenAIErrorBody = {
    message,
    type: openAITypeForStatus(status),
    param: null,
    code: (status === 400 || status === 413 ? failureCodeOf(message) : undefined) ?? (code === undefined ? null : String(code)),
  };
  return new UpstreamError(status, body, {
    deploymentId: input.deploymentId,
    headers: input.retryAfter !== undefined ? { 'retry-after': input.retryAfter } : undefined,
  });
}

/** Whether a JSON answer with a 2xx status is the v4 envelope of a failure (`success: false`). */
export function isErrorEnvelope(body: unknown): boolean {
  return isRecord(body) && body.success === false;
}

/**
 * Workers AI states an over-long prompt only in its message (e.g. "... exceeded the model's
 * context window ..."); OpenAI's code lets routing fall back to a larger model, as LiteLLM matches
 * such phrases in `exception_mapping_utils.py`.
 */
function failureCodeOf(message: string): string | undefined {
  return /context (window|length)|too many (input )?tokens|maximum (context|input)/i.test(message) ? 'context_length_exceeded' : undefined;
}

function openAITypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 408 || status === 504) return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/**
 * The envelope's `errors`; a bare `{code, message}`, an `{error: "..."}` or `{error: {message}}`
 * (what a proxy in front may answer) count as one.
 */
function errorItemsOf(body: unknown): CloudflareErrorItem[] {
  if (!isRecord(body)) return [];
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    return body.errors.map((item) => (isRecord(item) ? itemOf(item) : typeof item === 'string' ? { message: item } : {}));
  }
  if (typeof body.error === 'string') return [{ message: body.error }];
  if (isRecord(body.error)) return [itemOf(body.error)];
  if (typeof body.message === 'string') return [itemOf(body)];
  return [];
}

function itemOf(record: Record<string, unknown>): CloudflareErrorItem {
  return {
    code: typeof record.code === 'number' || typeof record.code === 'string' ? record.code : undefined,
    message: typeof record.message === 'string' ? record.message : undefined,
  };
}
