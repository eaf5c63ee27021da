/**
 * The rate limits of live traffic: `rpm`/`tpm` per deployment (LiteLLM `litellm_params`) and
 * `rpm_limit`/`tpm_limit` per virtual key (LiteLLM `/key/generate`), over a `RateLimiter` that is
 * in memory for one instance or in Redis for several (`REDIS_URL`).
 *
 * - Requests per minute are taken before the call, atomically (`tryAcquire`): a key's `rpm_limit`
 *   of 10 lets exactly 10 requests through in a minute, whatever the number of instances.
 * - Tokens are known only after the call: a request is let through while the window's tokens so
 *   far are under the limit, and the tokens of the answer's `usage` are charged when it arrives
 *   (JSON answers, and streams that carry `usage`, e.g. with `stream_options.include_usage`).
 * - Deployments: the router asks `deploymentAdmission` before each attempt; a deployment over its
 *   rpm/tpm is skipped like a cooling one while another of the group has room, and the request
 *   gets 429 when none has. The batch engine takes its requests from the same counters
 *   (`routing/rate-limits/deployment-budgets.ts`, at most `1 - live_traffic_share` of them), so
 *   live requests always have their share; its attempts are not admitted again here. A key's
 *   batch lines count against the key's limits the same way (`routing/rate-limits/key-budgets.ts`).
 * - Nothing is asked of the limiter when no limit applies: a deployment without rpm/tpm and a key
 *   without limits cost no round trip.
 */
import { RateLimitError } from '../spec/errors.ts';
import type { Deployment, UpstreamStream } from '../spec/provider.ts';
import type { Principal } from '../spec/principal.ts';
import type { AttemptReport, DeploymentAdmission } from '../routing/router.ts';
import { RATE_WINDOW_MS, deploymentRpmKey, deploymentTpmKey, tokensOfAnswer } from '../routing/rate-limits/deployment-budgets.ts';
import { keyRpmKey, keyTpmKey } from '../routing/rate-limits/key-budgets.ts';
import type { RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import { routeDeploymentOf } from '../routing/model-routes.ts';
import { meterStreamUsage } from './stream-usage.ts';

export { keyRpmKey, keyTpmKey };

export class LiveRateLimits {
  readonly #limiter: RateLimiter;
  readonly #deployments: ReadonlyMap<string, Deployment>;
  /**
   * Accounting token (`SendOptions.accountingToken`, one object per request) -> key id, for
   * requests whose key has a `tpm_limit` (charged after the answer). Never keyed on the request
   * id: clients choose it, and concurrent requests may share one.
   */
  readonly #keyTokenCharges = new Map<object, string>();

  constructor(limiter: RateLimiter, deployments: readonly Deployment[]) {
    this.#limiter = limiter;
    this.#deployments = new Map(deployments.map((deployment) => [deployment.id, deployment]));
  }

  get limiter(): RateLimiter {
    return this.#limiter;
  }

  /** For `new Router(config, { admission })`. */
  readonly deploymentAdmission: DeploymentAdmission = {
    appliesTo: (deployment) => deployment.rpm !== undefined || deployment.tpm !== undefined,
    admit: (deployment) => this.#admitDeployment(deployment),
  };

  /** Whether `principal` has a limit of its own (the only case `admitKey` does anything). */
  static hasKeyLimits(principal: Principal): boolean {
    return principal.keyId !== null && (isLimit(principal.rpmLimit) || isLimit(principal.tpmLimit));
  }

  /**
   * Takes one request from the key's `rpm_limit` and checks its `tpm_limit`; throws a 429
   * `RateLimitError` (with `retry-after`) when either is used up. `accountingToken` is
   * remembered so the answer's tokens are charged to the key (the router reports it with the
   * attempt); call `forget(accountingToken)` when the request ended.
   */
  async admitKey(principal: Principal, accountingToken: object): Promise<void> {
    const keyId = principal.keyId;
    if (keyId === null) return;
    const rpm = isLimit(principal.rpmLimit) ? principal.rpmLimit : undefined;
    const tpm = isLimit(principal.tpmLimit) ? principal.tpmLimit : undefined;
    if (rpm === undefined && tpm === undefined) return;
    const [requests, tokens] = await Promise.all([
      rpm === undefined ? undefined : this.#limiter.tryAcquire(keyRpmKey(keyId), 1, rpm, RATE_WINDOW_MS),
      tpm === undefined ? undefined : this.#limiter.tryAcquire(keyTpmKey(keyId), 0, tpm - 1, RATE_WINDOW_MS),
    ]);
    if (requests !== undefined && !requests.granted) {
      throw overLimit(`on requests per min (RPM): Limit ${rpm}, Used ${Math.round(requests.used)}, Requested 1`, requests.retryAfterMs);
    }
    if (tokens !== undefined && !tokens.granted) {
      // The request taken above is given back: it was refused.
      if (requests?.granted) await this.#limiter.record(keyRpmKey(keyId), -1, RATE_WINDOW_MS);
      throw overLimit(`on tokens per min (TPM): Limit ${tpm}, Used ${Math.round(tokens.used)}`, tokens.retryAfterMs);
    }
    if (tpm !== undefined) this.#keyTokenCharges.set(accountingToken, keyId);
  }

  /** The request ended: its tokens (if any were still to come) are no longer charged. */
  forget(accountingToken: object): void {
    if (this.#keyTokenCharges.size > 0) this.#keyTokenCharges.delete(accountingToken);
  }

  /**
   * The router's `onAttempt` observer: charges the tokens of a successful answer to the
   * deployment's `tpm` and to the key's `tpm_limit`, when either is set. Never throws or waits.
   * A stream is metered as it is relayed (its `usage` comes in the last events).
   */
  observeAttempt(report: AttemptReport): void {
    if (report.result === undefined) return;
    // A wildcard route's deployment for one model name has its route's limits (counted per name).
    const deployment = this.#deployments.get(report.deploymentId) ?? routeDeploymentOf(report.deploymentId, this.#deployments);
    // The batch engine's lines are sent with `countAgainstLimits: false` and charged by the engine.
    const deploymentTpm = deployment?.tpm !== undefined && report.countedAgainstLimits !== false;
    const token = report.accountingToken;
    const keyId = token === undefined || this.#keyTokenCharges.size === 0 ? undefined : this.#keyTokenCharges.get(token);
    if (!deploymentTpm && keyId === undefined) return;
    const charge = (tokens: number) => {
      if (tokens <= 0) return;
      const ignore = () => undefined;
      if (deploymentTpm) this.#limiter.record(deploymentTpmKey(report.deploymentId), tokens, RATE_WINDOW_MS).catch(ignore);
      if (keyId !== undefined) this.#limiter.record(keyTpmKey(keyId), tokens, RATE_WINDOW_MS).catch(ignore);
    };
    if (isUpstreamStream(report.result)) meterStreamUsage(report.result, charge);
    else charge(tokensOfAnswer(report.result));
  }

  /** Requests and tokens counted against the deployment's rpm/tpm over the last minute (only the limits it has). */
  async deploymentUsage(deployment: Deployment): Promise<{ rpm?: number; tpm?: number }> {
    const [rpm, tpm] = await Promise.all([
      deployment.rpm === undefined ? undefined : this.#limiter.usage(deploymentRpmKey(deployment.id), RATE_WINDOW_MS),
      deployment.tpm === undefined ? undefined : this.#limiter.usage(deploymentTpmKey(deployment.id), RATE_WINDOW_MS),
    ]);
    return { ...(rpm !== undefined && { rpm }), ...(tpm !== undefined && { tpm }) };
  }

  /** Undefined when admitted (one request taken from its rpm); else ms until it has room. */
  async #admitDeployment(deployment: Deployment): Promise<number | undefined> {
    const [requests, tokens] = await Promise.all([
      deployment.rpm === undefined ? undefined : this.#limiter.tryAcquire(deploymentRpmKey(deployment.id), 1, deployment.rpm, RATE_WINDOW_MS),
      deployment.tpm === undefined ? undefined : this.#limiter.tryAcquire(deploymentTpmKey(deployment.id), 0, deployment.tpm - 1, RATE_WINDOW_MS),
    ]);
    if (requests !== undefined && !requests.granted) return Math.max(1, requests.retryAfterMs);
    if (tokens !== undefined && !tokens.granted) {
      if (requests?.granted) await this.#limiter.record(deploymentRpmKey(deployment.id), -1, RATE_WINDOW_MS);
      return Math.max(1, tokens.retryAfterMs);
    }
    return undefined;
  }
}

/** The 429 when every deployment of a group is over its rpm/tpm. */
export function deploymentsOverLimit(modelGroup: string, retryAfterMs: number): RateLimitError {
  return overLimit(`for model \`${modelGroup}\`: every deployment is at its configured rpm/tpm`, retryAfterMs);
}

function overLimit(what: string, retryAfterMs: number): RateLimitError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  // OpenAI's wording (https://platform.openai.com/docs/guides/rate-limits), which clients parse for the wait.
  return new RateLimitError(`Rate limit reached ${what}. Please try again in ${seconds}s.`, {
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
  });
}

function isLimit(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isUpstreamStream(result: unknown): result is UpstreamStream {
  const body = (result as { body?: unknown } | null)?.body;
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}
