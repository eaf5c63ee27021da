/**
 * When to retry an upstream call and how long to wait: retryable errors only (408, 409, 429,
 * 5xx, connection failures, timeouts: `GatewayError.isRetryable`), exponential backoff with
 * jitter, and the upstream's `retry-after-ms` / `retry-after` when it sent one (the rules of
 * openai-node `client.ts` and undici's `retry-handler.js`).
 */
import { GatewayError, UpstreamError, UpstreamTimeoutError } from '../spec/errors.ts';

export interface BackoffSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A `retry-after` longer than this is ignored in favour of the backoff. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = Object.freeze({ initialDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 });

/**
 * OpenAI's codes for a prompt over the context window and a content policy refusal; each provider
 * folder translates its own errors into them (Anthropic's "prompt is too long", Azure's
 * `contentFilter`, a vLLM "maximum context length" text). They choose the fallbacks
 * (`fallback-plan.ts`) and the retry policy's class of an error.
 */
export const CONTEXT_WINDOW_CODES: ReadonlySet<string> = new Set(['context_length_exceeded']);
export const CONTENT_POLICY_CODES: ReadonlySet<string> = new Set(['content_policy_violation', 'content_filter']);

/**
 * LiteLLM's `router_settings.retry_policy`: retries by the class of the error, in place of the
 * deployment's `num_retries` for that error (https://docs.litellm.ai/docs/routing, "Advanced:
 * Custom Retries, Cooldowns based on Error Type"). A class the policy leaves out keeps the usual
 * rule. A class Portico does not retry by itself (a 400, a 401) is retried when the policy says so.
 */
export interface RetryPolicy {
  readonly badRequest?: number;
  readonly authentication?: number;
  readonly timeout?: number;
  readonly rateLimit?: number;
  readonly contentPolicy?: number;
  readonly internalServer?: number;
}

/** The retry policy's class of an error; undefined for an error that is not the upstream's answer. */
export function retryClassOf(error: unknown): keyof RetryPolicy | undefined {
  if (!(error instanceof GatewayError)) return undefined;
  if (error.code !== null && CONTENT_POLICY_CODES.has(error.code)) return 'contentPolicy';
  if (error instanceof UpstreamTimeoutError || error.httpStatus === 408) return 'timeout';
  if (error.httpStatus === 429) return 'rateLimit';
  if (error.httpStatus === 401) return 'authentication';
  if (error.httpStatus >= 500) return 'internalServer';
  if (error.httpStatus === 400) return 'badRequest';
  return undefined;
}

/** Whether another attempt may succeed, given the retries already made. */
export function shouldRetry(error: unknown, retriesSoFar: number, maxRetries: number, policy?: RetryPolicy): boolean {
  const errorClass = policy === undefined ? undefined : retryClassOf(error);
  const byClass = errorClass === undefined ? undefined : policy![errorClass];
  if (byClass !== undefined) return retriesSoFar < byClass;
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
export function countsAsDeploymentFailure(error: unknown, allowedFailsPolicy?: AllowedFailsPolicy): boolean {
  if (!(error instanceof GatewayError)) return false;
  if (error.isRetryable && error.httpStatus !== 409) return true;
  if (error instanceof UpstreamError && (error.httpStatus === 401 || error.httpStatus === 403)) return true;
  // A class the policy names counts, a client's bad request included (LiteLLM's
  // `_has_explicit_allowed_fails_policy_for_exception`): the operator asked for it.
  return allowedFailsFor(error, allowedFailsPolicy) !== undefined;
}

/**
 * LiteLLM's `router_settings.allowed_fails_policy`: how many failures of a class (`retryClassOf`)
 * a deployment may have within the minute before it cools down, in place of `allowed_fails` for
 * that class (https://docs.litellm.ai/docs/routing, "Advanced: Custom Retries, Cooldowns based on
 * Error Type"). A class it leaves out keeps `allowed_fails`. As in LiteLLM, the failures of all
 * classes are counted together; the class of the failure at hand sets the threshold.
 */
export type AllowedFailsPolicy = Readonly<Partial<Record<keyof RetryPolicy, number>>>;

/** The allowed failures the policy sets for this error's class; undefined: `allowed_fails` applies. */
export function allowedFailsFor(error: unknown, policy: AllowedFailsPolicy | undefined): number | undefined {
  if (policy === undefined) return undefined;
  const errorClass = retryClassOf(error);
  return errorClass === undefined ? undefined : policy[errorClass];
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
