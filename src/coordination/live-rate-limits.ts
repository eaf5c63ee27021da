/**
 * The rate limits of live traffic: `rpm`/`tpm` per deployment (LiteLLM `litellm_params`) and
 * `rpm_limit`/`tpm_limit`/`max_parallel_requests` per virtual key, user and team (LiteLLM
 * `/key/generate`, `/user/new`, `/team/new`; the subjects of `spec/budget-subjects.ts`), over a
 * `RateLimiter` and a `ParallelRequestLimiter` that are in memory for one instance or in Redis
 * for several (`REDIS_URL`).
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
import { randomUUID } from 'node:crypto';
import { subjectCounterKey, type BudgetSubject } from '../spec/budget-subjects.ts';
import { InMemoryParallelRequests, type ParallelRequestLimiter } from '../routing/rate-limits/parallel-requests.ts';

export { keyRpmKey, keyTpmKey };

export class LiveRateLimits {
  readonly #limiter: RateLimiter;
  readonly #parallel: ParallelRequestLimiter;
  #deployments: ReadonlyMap<string, Deployment>;
  /**
   * Accounting token (`SendOptions.accountingToken`, one object per request) -> the tpm counters
   * of its subjects with a `tpm_limit` (charged after the answer). Never keyed on the request
   * id: clients choose it, and concurrent requests may share one.
   */
  readonly #tokenCharges = new Map<object, readonly string[]>();
  /** Accounting token -> the parallel-request slots the request holds. */
  readonly #parallelLeases = new Map<object, { keys: readonly string[]; leaseId: string }>();

  constructor(limiter: RateLimiter, deployments: readonly Deployment[], parallel: ParallelRequestLimiter = new InMemoryParallelRequests()) {
    this.#limiter = limiter;
    this.#parallel = parallel;
    this.#deployments = new Map(deployments.map((deployment) => [deployment.id, deployment]));
  }

  /** The deployments whose `rpm`/`tpm` apply, after models were added or changed through the API. */
  setDeployments(deployments: readonly Deployment[]): void {
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

  /** Whether a subject of `principal` (key, user, team) has a limit (the only case `admit` does anything). */
  static appliesTo(principal: Principal): boolean {
    return limitedSubjectsOf(principal).length > 0;
  }

  /**
   * Takes one request from the `rpm_limit` of the key, its user and its team, checks their
   * `tpm_limit`, then takes a slot of their `max_parallel_requests`; throws a 429 `RateLimitError`
   * (with `retry-after`) and takes nothing when any is used up. `accountingToken` is remembered
   * so the answer's tokens are charged (the router reports it with the attempt); call
   * `release(accountingToken)` when the request ended, whichever way.
   */
  async admit(principal: Principal, accountingToken: object): Promise<void> {
    const subjects = limitedSubjectsOf(principal);
    if (subjects.length === 0) return;
    const checks: { subject: BudgetSubject; kind: 'rpm' | 'tpm'; limit: number; counter: string }[] = [];
    for (const subject of subjects) {
      if (isLimit(subject.rpmLimit)) checks.push({ subject, kind: 'rpm', limit: subject.rpmLimit, counter: `${subjectCounterKey(subject)}:rpm` });
      if (isLimit(subject.tpmLimit)) checks.push({ subject, kind: 'tpm', limit: subject.tpmLimit, counter: `${subjectCounterKey(subject)}:tpm` });
    }
    const decisions = await Promise.all(
      checks.map((check) => (check.kind === 'rpm' ? this.#limiter.tryAcquire(check.counter, 1, check.limit, RATE_WINDOW_MS) : this.#limiter.tryAcquire(check.counter, 0, check.limit - 1, RATE_WINDOW_MS))),
    );
    const giveBack = () => Promise.all(checks.map((check, i) => (check.kind === 'rpm' && decisions[i].granted ? this.#limiter.record(check.counter, -1, RATE_WINDOW_MS) : undefined)));
    const refused = decisions.findIndex((decision) => !decision.granted);
    if (refused >= 0) {
      // What was taken is given back: the request was refused.
      await giveBack();
      const { subject, kind, limit } = checks[refused];
      const decision = decisions[refused];
      const what = kind === 'rpm' ? `on requests per min (RPM): Limit ${limit}, Used ${Math.round(decision.used)}, Requested 1` : `on tokens per min (TPM): Limit ${limit}, Used ${Math.round(decision.used)}`;
      throw overLimit(`${subject.kind === 'key' ? '' : `for ${subject.kind} ${subject.id} `}${what}`, decision.retryAfterMs);
    }
    const slots = subjects.filter((subject) => isLimit(subject.maxParallelRequests)).map((subject) => ({ key: subjectCounterKey(subject), limit: subject.maxParallelRequests as number }));
    if (slots.length > 0) {
      const leaseId = randomUUID();
      const full = await this.#parallel.tryEnter(slots, leaseId);
      if (full >= 0) {
        await giveBack();
        const [kind, ...id] = slots[full].key.split(':');
        // LiteLLM's words (parallel_request_limiter), in OpenAI's 429 envelope.
        throw overLimit(`Max parallel request limit reached. Hit limit for ${kind === 'key' ? 'api_key' : kind}: ${id.join(':')}. max_parallel_requests: ${slots[full].limit}`, 1000, true);
      }
      this.#parallelLeases.set(accountingToken, { keys: slots.map((slot) => slot.key), leaseId });
    }
    const tpmCounters = checks.filter((check) => check.kind === 'tpm').map((check) => check.counter);
    if (tpmCounters.length > 0) this.#tokenCharges.set(accountingToken, tpmCounters);
  }

  /**
   * The request ended (answered, streamed to its end, failed or aborted by the client): its
   * parallel-request slots are given back, its tokens (if any were still to come) no longer charged.
   */
  release(accountingToken: object): void {
    if (this.#tokenCharges.size > 0) this.#tokenCharges.delete(accountingToken);
    const lease = this.#parallelLeases.get(accountingToken);
    if (lease === undefined) return;
    this.#parallelLeases.delete(accountingToken);
    void this.#parallel.leave(lease.keys, lease.leaseId);
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
    const counters = token === undefined || this.#tokenCharges.size === 0 ? undefined : this.#tokenCharges.get(token);
    if (!deploymentTpm && counters === undefined) return;
    const charge = (tokens: number) => {
      if (tokens <= 0) return;
      const ignore = () => undefined;
      if (deploymentTpm) this.#limiter.record(deploymentTpmKey(report.deploymentId), tokens, RATE_WINDOW_MS).catch(ignore);
      for (const counter of counters ?? []) this.#limiter.record(counter, tokens, RATE_WINDOW_MS).catch(ignore);
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

function overLimit(what: string, retryAfterMs: number, verbatim = false): RateLimitError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  // OpenAI's wording (https://platform.openai.com/docs/guides/rate-limits), which clients parse for the wait.
  return new RateLimitError(verbatim ? what : `Rate limit reached ${what}. Please try again in ${seconds}s.`, {
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
  });
}

/**
 * The subjects of `principal` with a limit: its budget subjects, or (a principal built without
 * them, in tests) its key's own `rpm_limit` / `tpm_limit`.
 */
function limitedSubjectsOf(principal: Principal): readonly BudgetSubject[] {
  if (principal.budgetSubjects !== undefined) {
    return principal.budgetSubjects.filter((subject) => isLimit(subject.rpmLimit) || isLimit(subject.tpmLimit) || isLimit(subject.maxParallelRequests));
  }
  if (principal.keyId === null || !(isLimit(principal.rpmLimit) || isLimit(principal.tpmLimit))) return [];
  return [
    {
      kind: 'key',
      id: principal.keyId,
      spend: 0,
      ...(isLimit(principal.rpmLimit) && { rpmLimit: principal.rpmLimit }),
      ...(isLimit(principal.tpmLimit) && { tpmLimit: principal.tpmLimit }),
    },
  ];
}

function isLimit(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isUpstreamStream(result: unknown): result is UpstreamStream {
  const body = (result as { body?: unknown } | null)?.body;
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}
