/**
 * Turns what undici throws (connection refused, reset, aborted, timed out) into Portico's
 * errors, so routing sees `isRetryable` and the server one error hierarchy.
 */
import { GatewayError, UpstreamConnectionError, UpstreamTimeoutError } from '../../spec/errors.ts';

/** The caller went away (client disconnect): nothing to retry, nobody to answer. */
export class UpstreamAbortedError extends GatewayError {
  constructor(message = 'The request was aborted before the upstream answered.', options: { cause?: unknown } = {}) {
    // 499 is nginx's "client closed request"; it is never rendered to a client that is gone.
    super(499, message, { type: 'api_error', code: 'client_closed_request', isRetryable: false, cause: options.cause });
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/**
 * Maps a failure of the transport (not an HTTP error status) to a GatewayError.
 * `signal` is the one the request was sent with: its reason tells a timeout from a disconnect.
 */
export function transportError(error: unknown, signal: AbortSignal | undefined, what: string): GatewayError {
  if (error instanceof GatewayError) return error;
  if (signal?.aborted) {
    if (isTimeoutReason(signal.reason)) {
      return new UpstreamTimeoutError(`${what} timed out.`, { cause: error });
    }
    return new UpstreamAbortedError(undefined, { cause: error });
  }
  const code = errorCode(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new UpstreamTimeoutError(`${what} timed out.`, { cause: error });
  }
  if (isTimeoutReason(error)) return new UpstreamTimeoutError(`${what} timed out.`, { cause: error });
  if (error instanceof Error && error.name === 'AbortError') return new UpstreamAbortedError(undefined, { cause: error });
  // Refused, reset, DNS failure, TLS failure, socket closed mid-body: the upstream was not
  // reachable or broke the connection. The message never carries the URL (it may hold a key).
  return new UpstreamConnectionError(`${what} failed: could not reach the upstream${code ? ` (${code})` : ''}.`, { cause: error });
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}
