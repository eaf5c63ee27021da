/**
 * What every provider's HTTP client does the same way around a JSON API, whatever its error
 * envelope: which answers are errors, how much of an error body is read, which status a
 * non-error non-2xx answer becomes, and the 502 for an answer Portico cannot read. Each
 * provider keeps only what differs: its headers, how it parses its error envelope, which retry
 * headers it passes on.
 */
import { UpstreamError } from '../../spec/errors.ts';
import type { UpstreamBody } from './request.ts';

/** The most of an error body that is read: enough for any envelope, bounded against a flood. */
export const ERROR_BODY_LIMIT = 1024 * 1024;

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The status an error answer is reported with: a redirect or informational answer is nothing a client can act on, so a bad gateway. */
export function errorStatusOf(responseStatus: number): number {
  return responseStatus >= 400 ? responseStatus : 502;
}

/** An error answer's body as text, at most `ERROR_BODY_LIMIT` bytes; `''` when it cannot be read (the status still reports). */
export async function readErrorText(body: UpstreamBody): Promise<string> {
  try {
    return await body.text(ERROR_BODY_LIMIT);
  } catch {
    return '';
  }
}

/** A 502 `bad_upstream_response`: the upstream answered, but not with what its API promises. */
export function badUpstreamResponse(message: string, options: { deploymentId?: string; isRetryable: boolean }): UpstreamError {
  return new UpstreamError(
    502,
    { message, type: 'api_error', param: null, code: 'bad_upstream_response' },
    { deploymentId: options.deploymentId, isRetryable: options.isRetryable },
  );
}

/** `text` parsed as JSON; a body that is not JSON is a retryable `bad_upstream_response` with `notJsonMessage`. */
export function parseJsonAnswer(text: string, notJsonMessage: string, deploymentId: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badUpstreamResponse(notJsonMessage, { deploymentId, isRetryable: true });
  }
}

/**
 * An error body that is not JSON, as a message for the client: the text, cut to 1,000
 * characters; nothing for an empty body or a proxy's HTML error page (the status speaks instead).
 * Each provider puts it in its own error envelope.
 */
export function plainErrorMessage(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' || trimmed.startsWith('<') ? undefined : trimmed.slice(0, 1000);
}

/** The signals that may end one exchange (the caller's, a deadline), as one. */
export function combineSignals(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}
