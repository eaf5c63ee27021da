/**
 * The ONE place where an error becomes an HTTP answer. Every error a client sees is OpenAI's
 * envelope `{"error": {"message", "type", "param", "code"}}`
 * (https://platform.openai.com/docs/guides/error-codes, `ErrorResponse` in openai-openapi.yaml),
 * except on the routes of Anthropic's own API (`/v1/messages`), whose clients read Anthropic's
 * `{"type": "error", "error": {"type", "message"}}` (`inAnthropicShape`).
 *
 * - `GatewayError` subclasses carry their own status, type, param, code and headers.
 * - Fastify's own errors (body parsing, size limits, media types) keep their 4xx status, with a
 *   message of our own wording (theirs mention Fastify internals).
 * - A full disk (ENOSPC, EDQUOT, SQLITE_FULL, PostgreSQL's 53100) is a 507 `insufficient_storage` (InsufficientStorageError).
 * - Anything else is a 500 with a generic message; the real error is for the log only, so no
 *   stack trace, internal path or upstream key can reach a client.
 *
 * Messages pass through a redactor as a last net (`spec/redaction.ts`): upstream errors are already
 * redacted where they enter Portico (the router), but no message may leak a key through here.
 */
import { GatewayError, InsufficientStorageError, type OpenAIErrorBody } from '../spec/errors.ts';
import { anthropicErrorTypeOf } from '../spec/anthropic-messages.ts';
import { redactSecrets } from '../spec/redaction.ts';

export interface ErrorResponse {
  status: number;
  body: { error: OpenAIErrorBody };
  headers: Record<string, string>;
  /** An unexpected error (a Portico bug or an unreachable dependency): log it in full at error level. */
  isInternal: boolean;
}

export interface ErrorToResponseOptions {
  /** Included in the generic 500 message so a user can quote it. */
  requestId?: string;
  /** Removes secrets from client-visible messages. */
  redact?: (text: string) => string;
}

/** Fastify's own error codes -> the answer we give. Kept in sync by `error-to-response.test.ts`. */
export const FASTIFY_ERRORS: Readonly<Record<string, { status: number; message: string; code: string | null }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    message: 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload.)',
    code: 'invalid_json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    message: 'The request body is empty but the content-type is application/json; send a JSON object.',
    code: 'invalid_json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.', code: 'request_too_large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    message: 'The request body size did not match its Content-Length header.',
    code: 'invalid_content_length',
  },
  FST_ERR_BAD_URL: { status: 400, message: 'The request URL could not be decoded.', code: 'invalid_url' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    message: 'Unsupported content-type; send application/json (multipart/form-data for file uploads).',
    code: 'unsupported_media_type',
  },
};

const GENERIC_INTERNAL_MESSAGE = 'The server had an error while processing your request.';

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function errorToResponse(error: unknown, options: ErrorToResponseOptions = {}): ErrorResponse {
  // A full disk under the blob directory or the database: nothing the client did, and nothing
  // a Portico bug did either; the client may retry once space is freed.
  if (isOutOfSpace(error)) return errorToResponse(new InsufficientStorageError(undefined, { cause: error }), options);
  const redact = options.redact ?? redactSecrets;
  if (error instanceof GatewayError) {
    return {
      status: error.httpStatus,
      body: {
        error: {
          message: redact(error.message),
          type: error.type,
          param: error.param,
          code: error.code,
        },
      },
      headers: error.headers,
      // Thrown on purpose with a client-facing message: reported, not a Portico bug.
      isInternal: false,
    };
  }

  const code = codeOf(error);
  const known = code === undefined ? undefined : FASTIFY_ERRORS[code];
  if (known !== undefined) {
    return envelope(known.status, known.message, { code: known.code });
  }
  // Other Fastify client errors (FST_ERR_*, 4xx): their status is right; the wording is generic.
  const status = statusOf(error);
  if (code?.startsWith('FST_') && status !== undefined && status >= 400 && status < 500) {
    return envelope(status, 'The request could not be processed.', { code: null });
  }

  const suffix = options.requestId ? ` (request id ${options.requestId})` : '';
  return { ...envelope(500, GENERIC_INTERNAL_MESSAGE + suffix, { type: 'server_error', code: null }), isInternal: true };
}

/** ENOSPC / EDQUOT from the file system, PostgreSQL's disk_full (53100), or SQLITE_FULL (13) from node:sqlite. */
function isOutOfSpace(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || error instanceof GatewayError) return false;
  const code = codeOf(error);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === POSTGRES_DISK_FULL) return true;
  return code === 'ERR_SQLITE_ERROR' && (error as { errcode?: unknown }).errcode === SQLITE_FULL;
}

const SQLITE_FULL = 13;
const POSTGRES_DISK_FULL = '53100';

function envelope(
  status: number,
  message: string,
  fields: { code: string | null; type?: string; param?: string | null },
): ErrorResponse {
  return {
    status,
    body: {
      error: {
        message,
        type: fields.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: fields.param ?? null,
        code: fields.code,
      },
    },
    headers: {},
    isInternal: false,
  };
}

/** One `data:` frame for an error that happens after a stream began (headers already sent). */
export function errorToSseFrame(error: unknown, options: ErrorToResponseOptions & { shape?: 'messages-api' } = {}): string {
  const response = errorToResponse(error, options);
  // Anthropic's streams name their error event (https://docs.anthropic.com/en/api/messages-streaming#error-events).
  if (options.shape === 'messages-api') return `event: error\ndata: ${JSON.stringify(inAnthropicShape(response).body)}\n\n`;
  return `data: ${JSON.stringify(response.body)}\n\n`;
}

export { createRedactor, redactSecrets } from '../spec/redaction.ts';

/**
 * An error answer in Anthropic's shape (https://docs.anthropic.com/en/api/errors): the message,
 * and Anthropic's `type`, the upstream's own where it was Anthropic's (kept in `code`), else the
 * one of the status. Anthropic's overload is its 529 again here (OpenAI's clients get 503).
 */
export function inAnthropicShape(response: ErrorResponse): { status: number; body: { type: 'error'; error: { type: string; message: string } } } {
  const code = response.body.error.code;
  const type = code !== null && ANTHROPIC_ERROR_TYPES.has(code) ? code : anthropicErrorTypeOf(response.status);
  return { status: type === 'overloaded_error' ? ANTHROPIC_OVERLOADED_STATUS : response.status, body: { type: 'error', error: { type, message: response.body.error.message } } };
}

/** https://docs.anthropic.com/en/api/errors */
const ANTHROPIC_ERROR_TYPES: ReadonlySet<string> = new Set([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);
const ANTHROPIC_OVERLOADED_STATUS = 529;
