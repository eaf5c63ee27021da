/**
 * Google API errors as the Gemini API answers them (https://ai.google.dev/gemini-api/docs/troubleshooting,
 * https://cloud.google.com/apis/design/errors; docs/specs/gemini-api.md §Errors):
 * `{"error": {"code": <http status>, "message", "status": <google.rpc.Code name>, "details"?}}`.
 */
import type { SimReply } from '../common/simulator-server.ts';

const STATUS_WORDS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
};

/** `google.rpc.Status` for an HTTP status. */
export function googleStatus(code: number, message?: string, details?: unknown[]): Record<string, unknown> {
  const status: Record<string, unknown> = { code, message: message ?? DEFAULT_MESSAGES[code] ?? 'Request failed.', status: STATUS_WORDS[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT') };
  if (details !== undefined) status.details = details;
  else if (code === 429) status.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }];
  return status;
}

export function googleErrorBody(code: number, message?: string, details?: unknown[]): { error: Record<string, unknown> } {
  return { error: googleStatus(code, message, details) };
}

export function googleError(code: number, message?: string, details?: unknown[]): SimReply {
  return { status: code, json: googleErrorBody(code, message, details) };
}

export function invalidApiKey(): SimReply {
  return googleError(400, 'API key not valid. Please pass a valid API key.', [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
  ]);
}
