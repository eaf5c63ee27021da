/**
 * Errors as Cloudflare's v4 API answers them: `{"result": null, "success": false, "errors":
 * [{"code", "message"}], "messages": []}` (https://developers.cloudflare.com/api/resources/ai/methods/run/),
 * with Workers AI's codes (https://developers.cloudflare.com/workers-ai/platform/errors/) and the
 * API's own: 10000 "Authentication error", 7003 "Could not route to ..., perhaps your object
 * identifier is invalid?". Codes not in those tables (5006 for input the model's schema refuses,
 * 3043 for an internal error) are the simulator's choice, worded as Workers AI words them.
 */
import type { SimReply } from '../common/simulator-server.ts';

const DEFAULT_ERRORS: Readonly<Record<number, { code: number; message: string }>> = {
  400: { code: 5006, message: 'AiError: Bad input: Error: oneOf at \'/\' not met' },
  401: { code: 10000, message: 'Authentication error' },
  403: { code: 3023, message: 'Service unavailable for account' },
  404: { code: 7003, message: 'Could not route to the requested path, perhaps your object identifier is invalid?' },
  408: { code: 3007, message: 'Request timeout' },
  413: { code: 3006, message: 'Request is too large' },
  429: { code: 3040, message: 'No more data centers to forward the request to' },
};

export function cloudflareErrorBody(status: number, code?: number, message?: string): Record<string, unknown> {
  const known = DEFAULT_ERRORS[status] ?? { code: 3043, message: 'Internal server error' };
  return { result: null, success: false, errors: [{ code: code ?? known.code, message: message ?? known.message }], messages: [] };
}

export function cloudflareError(status: number, code?: number, message?: string): SimReply {
  return { status, json: cloudflareErrorBody(status, code, message) };
}

/** Input the model's JSON schema refuses (Workers AI validates every input against it). */
export function badInput(detail: string): SimReply {
  return cloudflareError(400, 5006, `AiError: Bad input: ${detail}`);
}

/** The success envelope. */
export function success(result: unknown): SimReply {
  return { status: 200, json: { result, success: true, errors: [], messages: [] } };
}
