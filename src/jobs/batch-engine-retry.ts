/**
 * When a line of an emulated batch that failed is tried again, and after how long (pure).
 * Retryable failures (429, 408/409, 5xx, connection errors, timeouts: `GatewayError.isRetryable`)
 * are rescheduled, honouring the upstream's `retry-after-ms` / `retry-after`, else with
 * exponential backoff and jitter; anything else, or the last attempt, ends the line in the
 * error file.
 */
import { GatewayError } from '../spec/errors.ts';
import { retryAfterMs } from '../routing/retry-policy.ts';

export interface LineRetrySettings {
  /** Attempts per line, the first included (a lease that a crash or a stop gave back counts too). */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A `retry-after` longer than this is capped to it. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_LINE_RETRY: LineRetrySettings = Object.freeze({
  maxAttempts: 8,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 10 * 60_000,
});

export type LineFailureDecision =
  | { kind: 'retry'; delayMs: number; /** The upstream said it is over its rate limit. */ rateLimited: boolean }
  | { kind: 'fail' };

/** What to do after attempt number `attempt` (1-based) failed with `error`. */
export function decideLineFailure(error: unknown, attempt: number, settings: LineRetrySettings, random: () => number = Math.random): LineFailureDecision {
  // Anything that is not one of our errors is a gateway fault: worth another try.
  const retryable = error instanceof GatewayError ? error.isRetryable : true;
  if (!retryable || attempt >= settings.maxAttempts) return { kind: 'fail' };
  const rateLimited = error instanceof GatewayError && error.httpStatus === 429;
  const asked = retryAfterMs(error);
  if (asked !== undefined) return { kind: 'retry', delayMs: Math.min(asked, settings.maxRetryAfterMs), rateLimited };
  const exponential = Math.min(settings.initialDelayMs * 2 ** Math.max(0, attempt - 1), settings.maxDelayMs);
  // Up to 25% less, so that lines failing together do not come back together.
  return { kind: 'retry', delayMs: Math.round(exponential * (1 - random() * 0.25)), rateLimited };
}
