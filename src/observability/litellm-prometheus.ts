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
import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';
import type { Deployment } from '../spec/provider.ts';
import type { Principal } from '../spec/principal.ts';
import { budgetSubjectsOf } from '../spec/budget-subjects.ts';

/** LiteLLM's `LATENCY_BUCKETS`, seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600];

/** How prometheus_client writes a missing label value. */
const NONE = 'None';

const CALLER = ['end_user', 'hashed_api_key', 'api_key_alias', 'requested_model', 'team', 'team_alias', 'user'] as const;
const DEPLOYMENT = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'] as const;

interface Caller {
  readonly key: string;
  readonly alias: string;
  readonly team: string;
  readonly teamAlias: string;
  readonly user: string;
}

type DeploymentLabels = Readonly<Record<'litellm_model_name' | 'model_id' | 'api_base' | 'api_provider', string>>;

/** An attempt on a deployment the router no longer knows: LiteLLM's empty labels for a request no deployment took. */
const NO_DEPLOYMENT: DeploymentLabels = Object.freeze({ litellm_model_name: '', model_id: '', api_base: '', api_provider: '' });

const NO_CALLER: Caller = Object.freeze({ key: NONE, alias: NONE, team: NONE, teamAlias: NONE, user: NONE });

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
  readonly #totalRequests: FastCounter;
  readonly #failedRequests: FastCounter;
  readonly #totalLatency: FastHistogram;
  readonly #apiLatency: FastHistogram;
  readonly #spend: FastCounter;
  readonly #totalTokens: FastCounter;
  readonly #inputTokens: FastCounter;
  readonly #outputTokens: FastCounter;
  readonly #requests: FastCounter;
  readonly #remainingKeyBudget: Gauge;
  readonly #keyMaxBudget: Gauge;
  readonly #remainingTeamBudget: Gauge;
  readonly #teamMaxBudget: Gauge;
  readonly #deploymentState: Gauge;
  readonly #deploymentSuccess: FastCounter;
  readonly #deploymentFailure: FastCounter;
  readonly #deploymentTotal: FastCounter;
  readonly #cooledDown: FastCounter;
  readonly #deployment: (id: string) => Deployment | undefined;
  readonly #endUsers: boolean;
  readonly #cooldownEnd: (id: string) => number | undefined;
  /** Per key and team (`key:<id>`, `team:<id>`): the spend last read with a key, and what was spent since. */
  readonly #spendSinceRead = new Map<string, { read: number; added: number }>();
  readonly #deploymentLabelsById = new Map<string, DeploymentLabels>();
  readonly #states = new Map<string, 0 | 1 | 2>();
  /** The cooldown end last counted per deployment: a new end is a new cooldown. */
  readonly #countedCooldowns = new Map<string, number>();

  constructor(
    registry: Registry,
    options: {
      masterKey: string | undefined;
      deployment: (id: string) => Deployment | undefined;
      /** When the deployment's cooldown ends (ms), if it is cooling down. */
      cooldownEnd: (id: string) => number | undefined;
      /** LiteLLM's `enable_end_user_cost_tracking_prometheus_only`: the `end_user` label filled in (else `None`, as LiteLLM by default). */
      endUsers?: boolean;
    },
  ) {
    this.#masterKeyHash = options.masterKey === undefined ? NONE : createHash('sha256').update(options.masterKey).digest('hex');
    this.#deployment = options.deployment;
    this.#cooldownEnd = options.cooldownEnd;
    this.#endUsers = options.endUsers ?? false;
    const registers = [registry];
    // Portico's cheap counters and histograms (`fast-metrics.ts`): label values given in order, no hashing.
    const counter = (name: string, help: string, labelNames: readonly string[]) => new FastCounter({ name, help, labelNames, registers });
    // With several workers a scrape sums their metrics (`cluster-metrics.ts`); a gauge of a
    // budget or a state is not a sum: the lowest remaining budget, the worst state.
    const gauge = (name: string, help: string, labelNames: readonly string[], aggregator: 'min' | 'max') => new Gauge({ name, help, labelNames, registers, aggregator });
    const histogram = (name: string, help: string, labelNames: readonly string[]) => new FastHistogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
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
  #caller(principal: Principal | null): Caller {
    if (principal === null) return NO_CALLER;
    const names = principal.names;
    return {
      key: principal.isMaster ? this.#masterKeyHash : (names?.keyHash ?? NONE),
      alias: names?.keyAlias ?? NONE,
      team: principal.teamId ?? NONE,
      teamAlias: names?.teamAlias ?? NONE,
      user: principal.userId ?? NONE,
    };
  }

  /** `litellm_deployment_state`, written only when it changes (the gauge hashes its labels on every set). */
  #setState(deploymentId: string, labels: DeploymentLabels, state: 0 | 1 | 2): void {
    if (this.#states.get(deploymentId) === state) return;
    this.#states.set(deploymentId, state);
    this.#deploymentState.set(labels, state);
  }

  /** A deployment's labels, built once per deployment (its `api_base` parsed once). */
  #deploymentLabels(deployment: Deployment | undefined): DeploymentLabels {
    if (deployment === undefined) return NO_DEPLOYMENT;
    let labels = this.#deploymentLabelsById.get(deployment.id);
    if (labels === undefined) {
      labels = Object.freeze({ litellm_model_name: deployment.upstreamModel, model_id: deployment.id, api_base: apiBaseLabel(deployment.apiBase), api_provider: deployment.providerName });
      this.#deploymentLabelsById.set(deployment.id, labels);
    }
    return labels;
  }

  /** A model request's response ended (`status` 499: the client left first). */
  observeRequest(request: ObservedRequest, status: number, totalSeconds: number, upstreamSeconds: number | null): void {
    if (status === 401 || request.modelGroup === '') return;
    const c = this.#caller(request.principal);
    const endUser = this.#endUsers ? (request.endUser ?? NONE) : NONE;
    const group = request.modelGroup;
    // CALLER's order: end_user, hashed_api_key, api_key_alias, requested_model, team, team_alias, user.
    this.#totalRequests.labels(endUser, c.key, c.alias, group, c.team, c.teamAlias, c.user, String(status)).inc();
    if (status >= 400) {
      this.#failedRequests.labels(endUser, c.key, c.alias, group, c.team, c.teamAlias, c.user, String(status), exceptionClassOf(status)).inc();
      return;
    }
    const model = request.deploymentId === null ? NONE : (this.#deployment(request.deploymentId)?.upstreamModel ?? NONE);
    this.#totalLatency.labels(endUser, c.key, c.alias, group, c.team, c.teamAlias, c.user, model).observe(totalSeconds);
    if (upstreamSeconds !== null) this.#apiLatency.labels(model, c.key, c.alias, c.team, c.teamAlias, group, endUser, c.user).observe(upstreamSeconds);
  }

  /** A spend-ledger row of a live request: its cost and tokens, and what is left of its key's and team's budgets. */
  observeSpend(request: ObservedRequest, deployment: Deployment | undefined, spend: number, tokens: { prompt: number; completion: number; total: number }, succeeded: boolean): void {
    const c = this.#caller(request.principal);
    const endUser = this.#endUsers ? (request.endUser ?? NONE) : NONE;
    const model = deployment?.upstreamModel ?? NONE;
    const group = request.modelGroup || NONE;
    // end_user, hashed_api_key, api_key_alias, model, team, team_alias, user (, requested_model).
    this.#spend.labels(endUser, c.key, c.alias, model, c.team, c.teamAlias, c.user).inc(spend);
    this.#totalTokens.labels(endUser, c.key, c.alias, model, c.team, c.teamAlias, c.user, group).inc(tokens.total);
    this.#inputTokens.labels(endUser, c.key, c.alias, model, c.team, c.teamAlias, c.user, group).inc(tokens.prompt);
    this.#outputTokens.labels(endUser, c.key, c.alias, model, c.team, c.teamAlias, c.user, group).inc(tokens.completion);
    if (!succeeded) return;
    this.#requests.labels(endUser, c.key, c.alias, model, c.team, c.teamAlias, c.user).inc();
    const principal = request.principal;
    if (principal === null) return;
    for (const subject of budgetSubjectsOf(principal)) {
      if (subject.kind === 'user') continue;
      const remaining = subject.maxBudget === undefined ? Infinity : subject.maxBudget - this.#spentBy(`${subject.kind}:${subject.id}`, subject.spend, spend);
      if (subject.kind === 'key') {
        const key = { hashed_api_key: c.key, api_key_alias: c.alias };
        this.#remainingKeyBudget.set(key, remaining);
        if (subject.maxBudget !== undefined) this.#keyMaxBudget.set(key, subject.maxBudget);
      } else {
        const team = { team: c.team, team_alias: c.teamAlias };
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
    const c = this.#caller(request?.principal ?? null);
    const group = deployment?.modelGroup ?? request?.modelGroup ?? NONE;
    // requested_model, litellm_model_name, model_id, api_base, api_provider, (exception_status, exception_class,) hashed_api_key, api_key_alias, team, team_alias.
    this.#deploymentTotal.labels(group, where.litellm_model_name, where.model_id, where.api_base, where.api_provider, c.key, c.alias, c.team, c.teamAlias).inc();
    if (failure === undefined) {
      this.#deploymentSuccess.labels(group, where.litellm_model_name, where.model_id, where.api_base, where.api_provider, c.key, c.alias, c.team, c.teamAlias).inc();
      if (deployment !== undefined) this.#setState(deployment.id, where, 0);
      return;
    }
    const status = String(failure.status);
    this.#deploymentFailure.labels(group, where.litellm_model_name, where.model_id, where.api_base, where.api_provider, status, exceptionClassOf(failure.status), c.key, c.alias, c.team, c.teamAlias).inc();
    if (deployment === undefined) return;
    this.#setState(deployment.id, where, 1);
    // The router records the failure after reporting it: whether it started a cooldown is read once it has.
    setImmediate(() => {
      const end = this.#cooldownEnd(deploymentId);
      if (end === undefined) return;
      this.#setState(deploymentId, where, 2);
      if (this.#countedCooldowns.get(deploymentId) === end) return;
      this.#countedCooldowns.set(deploymentId, end);
      this.#cooledDown.labels(where.litellm_model_name, where.model_id, where.api_base, where.api_provider, status).inc();
    });
  }
}
