/**
 * LiteLLM's Prometheus metrics (`litellm_settings.callbacks: ["prometheus"]`), under LiteLLM's
 * names and label names, so that the dashboards and alerts a team built on LiteLLM's proxy keep
 * working on Portico's `/metrics` (beside Portico's own `portico_*` metrics). Names, labels,
 * help texts and what updates each are LiteLLM's (https://docs.litellm.ai/docs/proxy/prometheus;
 * its `litellm/integrations/prometheus.py` and `litellm/types/integrations/prometheus.py`, MIT,
 * https://github.com/BerriAI/litellm): counters exposed with `_total` as Python's
 * prometheus_client exposes them, a missing label value as the string `None` as it writes one,
 * `hashed_api_key` the SHA-256 of the key (LiteLLM's token). The label sets are those LiteLLM's
 * docs list; the per-request labels LiteLLM added later (`route`, `client_ip`, `user_agent`,
 * `user_email`, `model_id` on the request counters, org labels) are not carried: fewer series.
 *
 * - Per client model request (`observeRequest`, when its response ended): the total and failed
 *   request counters; on success the total and LLM API latency histograms.
 * - Per spend-ledger row (`observeSpend`): spend and tokens; on success the request count and the
 *   remaining budget of the key and its team.
 * - Per upstream attempt (`observeAttempt`, the router's observer): the deployment's success,
 *   failure and total counters and its state gauge (0 healthy, 1 a failure, 2 cooling down), and
 *   `litellm_deployment_cooled_down` when a failure put it in cooldown.
 *
 * Off by default: without the callback nothing here is created and the request path reads one
 * `undefined`. A request refused for its key (401) is not counted, as in LiteLLM.
 */
import { createHash } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Deployment } from '../spec/provider.ts';
import type { Principal } from '../spec/principal.ts';
import { budgetSubjectsOf } from '../spec/budget-subjects.ts';

/** LiteLLM's `LATENCY_BUCKETS`, seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600];

/** How prometheus_client writes a missing label value. */
const NONE = 'None';

const CALLER = ['end_user', 'hashed_api_key', 'api_key_alias', 'requested_model', 'team', 'team_alias', 'user'] as const;
const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'] as const;

/** What a request's metrics read of it (`server/request-context.ts`'s context is one). */
export interface ObservedRequest {
  readonly principal: Principal | null;
  readonly modelGroup: string;
  readonly endUser?: string;
  readonly deploymentId: string | null;
}

/** LiteLLM's exception classes (OpenAI's), by the status a client got. */
function exceptionClassOf(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequestError';
    case 401:
      return 'AuthenticationError';
    case 403:
      return 'PermissionDeniedError';
    case 404:
      return 'NotFoundError';
    case 408:
    case 504:
      return 'Timeout';
    case 409:
      return 'ConflictError';
    case 413:
    case 422:
      return 'UnprocessableEntityError';
    case 429:
      return 'RateLimitError';
    case 499:
      return 'ClientDisconnected';
    case 503:
      return 'ServiceUnavailableError';
    default:
      return status >= 500 ? 'InternalServerError' : 'APIError';
  }
}

/** An `api_base` as a label: no credentials or query string (a key sometimes rides in one). */
function apiBaseLabel(apiBase: string | undefined): string {
  if (apiBase === undefined) return NONE;
  try {
    const url = new URL(apiBase);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return NONE;
  }
}

export class LiteLLMPrometheusMetrics {
  readonly #masterKeyHash: string;
  readonly #totalRequests: Counter;
  readonly #failedRequests: Counter;
  readonly #totalLatency: Histogram;
  readonly #apiLatency: Histogram;
  readonly #spend: Counter;
  readonly #totalTokens: Counter;
  readonly #inputTokens: Counter;
  readonly #outputTokens: Counter;
  readonly #requests: Counter;
  readonly #remainingKeyBudget: Gauge;
  readonly #keyMaxBudget: Gauge;
  readonly #remainingTeamBudget: Gauge;
  readonly #teamMaxBudget: Gauge;
  readonly #deploymentState: Gauge;
  readonly #deploymentSuccess: Counter;
  readonly #deploymentFailure: Counter;
  readonly #deploymentTotal: Counter;
  readonly #cooledDown: Counter;
  readonly #deployment: (id: string) => Deployment | undefined;
  readonly #cooldownEnd: (id: string) => number | undefined;
  /** Per key and team (`key:<id>`, `team:<id>`): the spend last read with a key, and what was spent since. */
  readonly #spendSinceRead = new Map<string, { read: number; added: number }>();
  /** The cooldown end last counted per deployment: a new end is a new cooldown. */
  readonly #countedCooldowns = new Map<string, number>();

  constructor(
    registry: Registry,
    options: {
      masterKey: string | undefined;
      deployment: (id: string) => Deployment | undefined;
      /** When the deployment's cooldown ends (ms), if it is cooling down. */
      cooldownEnd: (id: string) => number | undefined;
    },
  ) {
    this.#masterKeyHash = options.masterKey === undefined ? NONE : createHash('sha256').update(options.masterKey).digest('hex');
    this.#deployment = options.deployment;
    this.#cooldownEnd = options.cooldownEnd;
    const registers = [registry];
    const counter = (name: string, help: string, labelNames: readonly string[]) => new Counter({ name, help, labelNames, registers });
    // With several workers a scrape sums their metrics (`cluster-metrics.ts`); a gauge of a
    // budget or a state is not a sum: the lowest remaining budget, the worst state.
    const gauge = (name: string, help: string, labelNames: readonly string[], aggregator: 'min' | 'max') => new Gauge({ name, help, labelNames, registers, aggregator });
    const histogram = (name: string, help: string, labelNames: readonly string[]) => new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
    this.#totalRequests = counter('litellm_proxy_total_requests_metric_total', 'Total number of requests made to the proxy server - track number of client side requests', [...CALLER, 'status_code']);
    this.#failedRequests = counter('litellm_proxy_failed_requests_metric_total', 'Total number of failed responses from proxy - the client did not get a success response from litellm proxy', [
      ...CALLER,
      'exception_status',
      'exception_class',
    ]);
    this.#totalLatency = histogram('litellm_request_total_latency_metric', 'Total latency (seconds) for a request to LiteLLM', [...CALLER, 'model']);
    this.#apiLatency = histogram('litellm_llm_api_latency_metric', 'Total latency (seconds) for a models LLM API call', ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'requested_model', 'end_user', 'user']);
    const spender = ['end_user', 'hashed_api_key', 'api_key_alias', 'model', 'team', 'team_alias', 'user'];
    this.#spend = counter('litellm_spend_metric_total', 'Total spend on LLM requests', spender);
    this.#totalTokens = counter('litellm_total_tokens_metric_total', 'Total number of input + output tokens from LLM requests', [...spender, 'requested_model']);
    this.#inputTokens = counter('litellm_input_tokens_metric_total', 'Total number of input tokens from LLM requests', [...spender, 'requested_model']);
    this.#outputTokens = counter('litellm_output_tokens_metric_total', 'Total number of output tokens from LLM requests', [...spender, 'requested_model']);
    this.#requests = counter('litellm_requests_metric_total', 'deprecated - use litellm_proxy_total_requests_metric. Total number of LLM calls to litellm - track total per API Key, team, user', spender);
    this.#remainingKeyBudget = gauge('litellm_remaining_api_key_budget_metric', 'Remaining budget for api key', ['hashed_api_key', 'api_key_alias'], 'min');
    this.#keyMaxBudget = gauge('litellm_api_key_max_budget_metric', 'Maximum budget set for api key', ['hashed_api_key', 'api_key_alias'], 'max');
    this.#remainingTeamBudget = gauge('litellm_remaining_team_budget_metric', 'Remaining budget for team', ['team', 'team_alias'], 'min');
    this.#teamMaxBudget = gauge('litellm_team_max_budget_metric', 'Maximum budget set for team', ['team', 'team_alias'], 'max');
    this.#deploymentState = gauge('litellm_deployment_state', 'LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage', DEPLOYMENT, 'max');
    const byDeployment = ['requested_model', ...DEPLOYMENT, 'hashed_api_key', 'api_key_alias', 'team', 'team_alias'];
    this.#deploymentSuccess = counter('litellm_deployment_success_responses_total', 'LLM Deployment Analytics - Total number of successful LLM API calls via litellm', byDeployment);
    this.#deploymentFailure = counter(
      'litellm_deployment_failure_responses_total',
      'LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api',
      ['requested_model', ...DEPLOYMENT, 'exception_status', 'exception_class', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias'],
    );
    this.#deploymentTotal = counter('litellm_deployment_total_requests_total', 'LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure', byDeployment);
    this.#cooledDown = counter(
      'litellm_deployment_cooled_down_total',
      'LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down',
      [...DEPLOYMENT, 'exception_status'],
    );
  }

  /** The caller's labels: key hash and alias, team and its alias, user. */
  #caller(principal: Principal | null): { hashed_api_key: string; api_key_alias: string; team: string; team_alias: string; user: string } {
    if (principal === null) return { hashed_api_key: NONE, api_key_alias: NONE, team: NONE, team_alias: NONE, user: NONE };
    const names = principal.names;
    return {
      hashed_api_key: principal.isMaster ? this.#masterKeyHash : (names?.keyHash ?? NONE),
      api_key_alias: names?.keyAlias ?? NONE,
      team: principal.teamId ?? NONE,
      team_alias: names?.teamAlias ?? NONE,
      user: principal.userId ?? NONE,
    };
  }

  #deploymentLabels(deployment: Deployment | undefined): { litellm_model_name: string; model_id: string; api_base: string; api_provider: string } {
    if (deployment === undefined) return { litellm_model_name: '', model_id: '', api_base: '', api_provider: '' };
    return { litellm_model_name: deployment.upstreamModel, model_id: deployment.id, api_base: apiBaseLabel(deployment.apiBase), api_provider: deployment.providerName };
  }

  /** A model request's response ended (`status` 499: the client left first). */
  observeRequest(request: ObservedRequest, status: number, totalSeconds: number, upstreamSeconds: number | null): void {
    if (status === 401 || request.modelGroup === '') return;
    const caller = { ...this.#caller(request.principal), end_user: request.endUser ?? NONE, requested_model: request.modelGroup };
    this.#totalRequests.inc({ ...caller, status_code: String(status) });
    if (status >= 400) {
      this.#failedRequests.inc({ ...caller, exception_status: String(status), exception_class: exceptionClassOf(status) });
      return;
    }
    const model = request.deploymentId === null ? NONE : (this.#deployment(request.deploymentId)?.upstreamModel ?? NONE);
    this.#totalLatency.observe({ ...caller, model }, totalSeconds);
    if (upstreamSeconds !== null) this.#apiLatency.observe({ ...caller, model }, upstreamSeconds);
  }

  /** A spend-ledger row of a live request: its cost and tokens, and what is left of its key's and team's budgets. */
  observeSpend(request: ObservedRequest, deployment: Deployment | undefined, spend: number, tokens: { prompt: number; completion: number; total: number }, succeeded: boolean): void {
    const caller = this.#caller(request.principal);
    const labels = { ...caller, end_user: request.endUser ?? NONE, model: deployment?.upstreamModel ?? NONE };
    this.#spend.inc(labels, spend);
    const withGroup = { ...labels, requested_model: request.modelGroup || NONE };
    this.#totalTokens.inc(withGroup, tokens.total);
    this.#inputTokens.inc(withGroup, tokens.prompt);
    this.#outputTokens.inc(withGroup, tokens.completion);
    if (!succeeded) return;
    this.#requests.inc(labels);
    const principal = request.principal;
    if (principal === null) return;
    for (const subject of budgetSubjectsOf(principal)) {
      if (subject.kind === 'user') continue;
      const remaining = subject.maxBudget === undefined ? Infinity : subject.maxBudget - this.#spentBy(`${subject.kind}:${subject.id}`, subject.spend, spend);
      if (subject.kind === 'key') {
        const key = { hashed_api_key: caller.hashed_api_key, api_key_alias: caller.api_key_alias };
        this.#remainingKeyBudget.set(key, remaining);
        if (subject.maxBudget !== undefined) this.#keyMaxBudget.set(key, subject.maxBudget);
      } else if (subject.kind === 'team') {
        const team = { team: caller.team, team_alias: caller.team_alias };
        this.#remainingTeamBudget.set(team, remaining);
        if (subject.maxBudget !== undefined) this.#teamMaxBudget.set(team, subject.maxBudget);
      }
    }
  }

  /**
   * A key's or team's spend: the spend read with the key (the key cache keeps it for seconds),
   * plus what this process has seen it spend since that read (LiteLLM adds only the one
   * response's cost to the read spend, which lags behind a busy key).
   */
  #spentBy(subject: string, readSpend: number, cost: number): number {
    const seen = this.#spendSinceRead.get(subject);
    if (seen === undefined || seen.read !== readSpend) {
      this.#spendSinceRead.set(subject, { read: readSpend, added: cost });
      return readSpend + cost;
    }
    seen.added += cost;
    return readSpend + seen.added;
  }

  /** One upstream attempt (the router's observer), with the request it was for when it was a live one. */
  observeAttempt(deploymentId: string, request: ObservedRequest | undefined, failure: { status: number } | undefined): void {
    const deployment = this.#deployment(deploymentId);
    const where = this.#deploymentLabels(deployment);
    const caller = this.#caller(request?.principal ?? null);
    const labels = {
      requested_model: deployment?.modelGroup ?? request?.modelGroup ?? NONE,
      ...where,
      hashed_api_key: caller.hashed_api_key,
      api_key_alias: caller.api_key_alias,
      team: caller.team,
      team_alias: caller.team_alias,
    };
    this.#deploymentTotal.inc(labels);
    if (failure === undefined) {
      this.#deploymentSuccess.inc(labels);
      if (deployment !== undefined) this.#deploymentState.set(where, 0);
      return;
    }
    this.#deploymentFailure.inc({ ...labels, exception_status: String(failure.status), exception_class: exceptionClassOf(failure.status) });
    if (deployment === undefined) return;
    this.#deploymentState.set(where, 1);
    // The router records the failure after reporting it: whether it started a cooldown is read once it has.
    setImmediate(() => {
      const end = this.#cooldownEnd(deploymentId);
      if (end === undefined) return;
      this.#deploymentState.set(where, 2);
      if (this.#countedCooldowns.get(deploymentId) === end) return;
      this.#countedCooldowns.set(deploymentId, end);
      this.#cooledDown.inc({ ...where, exception_status: String(failure.status) });
    });
  }
}
