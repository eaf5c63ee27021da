/**
 * Anthropic's error envelope: `{"type":"error","error":{"type","message"},"request_id"}` with the
 * status each error type carries (WIRE.md §3; docs "Errors").
 */
import type { SimReply, SimRequest } from '../common/simulator-server.ts';

export const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGE: Record<string, string> = {
  invalid_request_error: 'The simulator was asked to fail this request.',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit.',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out',
  overloaded_error: 'Overloaded',
};

export function errorTypeFor(status: number): string {
  return ERROR_TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorBody(status: number, message: string | undefined, requestId: string | null): Record<string, unknown> {
  const type = errorTypeFor(status);
  return { type: 'error', error: { type, message: message ?? DEFAULT_MESSAGE[type] ?? `Simulated error ${status}` }, request_id: requestId };
}

export function anthropicError(req: SimRequest, status: number, message?: string): SimReply {
  return { status, json: anthropicErrorBody(status, message, req.responseHeaders['request-id'] ?? null) };
}
