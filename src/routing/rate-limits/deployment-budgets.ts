/**
 * A deployment's `rpm`/`tpm` (LiteLLM `litellm_params`), shared between live requests and the
 * batch engine, with a share kept free for live traffic.
 *
 * - Live requests are never limited here: every upstream attempt they make is counted
 *   (`liveTrafficMeter`, hooked into the router's `onAttempt`), so the engine sees them.
 * - The batch engine asks before each line (`admitBatchRequests`): it may start a request only
 *   while the deployment's whole usage (live + batch) stays within `(1 - share) * rpm`, so at
 *   least `share` of the budget is always left for live requests; over it, the engine waits.
 * - Tokens are known only after a call: the engine records them (`recordTokens`), live
 *   requests through the meter; the engine starts no line while the window's tokens are at or
 *   over `(1 - share) * tpm` (so it can overshoot by the tokens of the lines already running).
 */
import type { Deployment } from '../../spec/provider.ts';
import type { AttemptReport } from '../router.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** LiteLLM's rpm/tpm are per minute. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Request ids of the batch engine's upstream calls start with this: a name for logs and the
 * upstream's `x-client-request-id`, never a signal (a client may send any id). The engine's calls
 * are told apart by `countAgainstLimits: false`.
 */
export const BATCH_REQUEST_ID_PREFIX = 'portico-batch-';

export const DEFAULT_LIVE_TRAFFIC_SHARE = 0.2;

/** How long the engine waits before asking again when the tokens budget is used up. */
const TOKENS_RETRY_MS = 1000;

export const deploymentRpmKey = (deploymentId: string): string => `deployment:${deploymentId}:rpm`;
export const deploymentTpmKey = (deploymentId: string): string => `deployment:${deploymentId}:tpm`;

export interface BatchAdmission {
  /** Requests the engine may start now (taken from the rpm budget). */
  granted: number;
  /** When fewer than wanted were granted: about when to ask again, ms. */
  retryAfterMs: number;
}

/** The part of a deployment's rpm/tpm the engine may use; undefined = no limit configured. */
export function batchShareOf(limit: number | undefined, liveTrafficShare: number): number | undefined {
  if (limit === undefined) return undefined;
  return Math.floor(limit * (1 - liveTrafficShare));
}

export class DeploymentBudgets {
  readonly #limiter: RateLimiter;
  readonly #share: number;

  constructor(limiter: RateLimiter, liveTrafficShare: number = DEFAULT_LIVE_TRAFFIC_SHARE) {
    if (!(liveTrafficShare >= 0 && liveTrafficShare < 1)) throw new RangeError('liveTrafficShare must be in [0, 1)');
    this.#limiter = limiter;
    this.#share = liveTrafficShare;
  }

  get limiter(): RateLimiter {
    return this.#limiter;
  }

  /** Takes up to `wanted` requests from the deployment's batch share. */
  async admitBatchRequests(deployment: Deployment, wanted: number): Promise<BatchAdmission> {
    if (wanted <= 0) return { granted: 0, retryAfterMs: 0 };
    const tpm = batchShareOf(deployment.tpm, this.#share);
    if (tpm !== undefined && (await this.#limiter.usage(deploymentTpmKey(deployment.id), RATE_WINDOW_MS)) >= tpm) {
      return { granted: 0, retryAfterMs: TOKENS_RETRY_MS };
    }
    const rpm = batchShareOf(deployment.rpm, this.#share);
    if (rpm === undefined) return { granted: wanted, retryAfterMs: 0 };
    const key = deploymentRpmKey(deployment.id);
    const all = await this.#limiter.tryAcquire(key, wanted, rpm, RATE_WINDOW_MS);
    if (all.granted) return { granted: wanted, retryAfterMs: 0 };
    const room = Math.floor(rpm - all.used);
    if (room > 0) {
      const some = await this.#limiter.tryAcquire(key, room, rpm, RATE_WINDOW_MS);
      if (some.granted) return { granted: room, retryAfterMs: 0 };
    }
    return { granted: 0, retryAfterMs: all.retryAfterMs };
  }

  /** Gives back requests admitted but not started (no line was waiting). */
  async returnUnused(deployment: Deployment, count: number): Promise<void> {
    if (count > 0 && deployment.rpm !== undefined) await this.#limiter.record(deploymentRpmKey(deployment.id), -count, RATE_WINDOW_MS);
  }

  async recordTokens(deploymentId: string, tokens: number): Promise<void> {
    if (tokens > 0) await this.#limiter.record(deploymentTpmKey(deploymentId), tokens, RATE_WINDOW_MS);
  }
}

/**
 * The router's `onAttempt` observer that counts live traffic against the deployments'
 * rpm/tpm: one request per inference answer (a JSON or streamed answer with its HTTP status),
 * and the tokens of a JSON answer's `usage`. Not counted: failed attempts (the upstream served
 * nothing), operations that are not inference calls (file uploads, batch creation: their
 * results carry no numeric status), and the batch engine's own calls (sent with
 * `countAgainstLimits: false`), which the engine counts itself. Never throws, never waits.
 *
 *   const meter = liveTrafficMeter(limiter);
 *   new Router(config, { onAttempt: (report) => { metrics.observeUpstreamAttempt(report); meter(report); } });
 */
export function liveTrafficMeter(limiter: RateLimiter): (report: AttemptReport) => void {
  return (report) => {
    if (report.countedAgainstLimits === false || !isInferenceAnswer(report.result)) return;
    const ignore = () => undefined;
    limiter.record(deploymentRpmKey(report.deploymentId), 1, RATE_WINDOW_MS).catch(ignore);
    const tokens = report.result === undefined ? 0 : tokensOfAnswer(report.result);
    if (tokens > 0) limiter.record(deploymentTpmKey(report.deploymentId), tokens, RATE_WINDOW_MS).catch(ignore);
  };
}

/** An `UpstreamJsonResponse` or `UpstreamStream`: what inference calls answer. */
function isInferenceAnswer(result: unknown): boolean {
  return typeof result === 'object' && result !== null && typeof (result as { status?: unknown }).status === 'number';
}

/** Total tokens of an OpenAI-shaped JSON answer (`{ body: { usage } }`), 0 when it has none. */
export function tokensOfAnswer(answer: unknown): number {
  const body = (answer as { body?: unknown } | null)?.body;
  const usage = (body as { usage?: Record<string, unknown> } | null | undefined)?.usage;
  if (!usage || typeof usage !== 'object') return 0;
  const total = number(usage.total_tokens);
  if (total > 0) return total;
  return number(usage.prompt_tokens) + number(usage.completion_tokens) + number(usage.input_tokens) + number(usage.output_tokens);
}

function number(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
