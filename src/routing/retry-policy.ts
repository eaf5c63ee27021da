/**
 * When to retry an upstream call and how long to wait: retryable errors only (408, 409, 429,
 * 5xx, connection failures, timeouts: `GatewayError.isRetryable`), exponential backoff with
 * jitter, and the upstream's `retry-after-ms` / `retry-after` when it sent one (the rules of
 * openai-node `client.ts` and undici's `retry-handler.js`).
 */
import { GatewayError, UpstreamError } from '../spec/errors.ts';

export interface BackoffSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A `retry-after` longer than this is ignored in favour of the backoff. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = Object.freeze({ initialDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 });

/** Whether another attempt may succeed, given the retries already made. */
export function shouldRetry(error: unknown, retriesSoFar: number, maxRetries: number): boolean {
  return retriesSoFar < maxRetries && error instanceof GatewayError && error.isRetryable;
}

/** The wait the upstream asked for, in ms, if it did. */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (!(error instanceof GatewayError)) return undefined;
  const ms = error.headers['retry-after-ms'];
  if (ms !== undefined) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = error.headers['retry-after'];
  if (after === undefined) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Delay before retry number `retriesSoFar + 1`. */
export function retryDelayMs(
  error: unknown,
  retriesSoFar: number,
  random: () => number,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  now: number = Date.now(),
): number {
  const asked = retryAfterMs(error, now);
  if (asked !== undefined && asked <= settings.maxRetryAfterMs) return asked;
  const exponential = Math.min(settings.initialDelayMs * 2 ** retriesSoFar, settings.maxDelayMs);
  // Up to 25% less, so that clients failing together do not retry together.
  return Math.round(exponential * (1 - random() * 0.25));
}

/**
 * Whether a failure counts against a deployment's health: upstream trouble (retryable errors)
 * and a rejected key (401/403: this deployment is misconfigured). A client's bad request does not.
 */
export function countsAsDeploymentFailure(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  if (error.isRetryable && error.httpStatus !== 409) return true;
  return error instanceof UpstreamError && (error.httpStatus === 401 || error.httpStatus === 403);
}

/**
 * Whether to try the fallback groups after a group failed: upstream trouble, or a deployment
 * that rejects us (401/403/404 from the upstream: key, permission or model missing there).
 * A 400 is the request's fault and would fail the same way elsewhere.
 */
export function shouldFallBack(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  if (error.isRetryable) return true;
  return error instanceof UpstreamError && [401, 403, 404].includes(error.httpStatus);
}
