/**
 * One `send()` around every upstream call: pick a deployment of the model group (weighted
 * shuffle, skipping cooled-down ones), apply the deployment's timeout, retry retryable
 * failures with backoff (preferring another deployment), then fall back to other groups.
 * Everything happens before the first byte reaches the client: a streaming operation resolves
 * once the upstream stream is open, so errors before that are still retried or fallen back.
 *
 * Every upstream call passes here, so this is where upstream error text is redacted (the
 * deployments' keys, the master key, anything that looks like a key): whatever consumes the
 * error next (an HTTP answer, a stream's error frame, a batch error file, a log) sees it clean.
 */
import { activeTracer, type TraceSpan, type Tracer } from '../observability/tracing.ts';
import { attemptTraceparent } from '../providers/http/trace-propagation.ts';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { PorticoConfig } from '../config/types.ts';
import { providerFor } from '../providers/registry.ts';
import { redactorFor } from '../config/secret-redactor.ts';
import { GatewayError, NotFoundError, RateLimitError } from '../spec/errors.ts';
import { mayUseModel, type Principal } from '../spec/principal.ts';
import type { Redactor } from '../spec/redaction.ts';
import type { CallOptions, Deployment, Provider, ProviderClient } from '../spec/provider.ts';
import { FAILURE_WINDOW_MS } from './cooldown.ts';
import { type DeploymentHealth, InMemoryDeploymentHealth } from './deployment-health.ts';
import { type FallbackTarget, failureKindOf, fallbackTargets } from './fallback-plan.ts';
import { type BackoffSettings, DEFAULT_BACKOFF, allowedFailsFor, countsAsDeploymentFailure, retryDelayMs, shouldRetry } from './retry-policy.ts';
import { abortedError, attemptSignal, type AttemptSignal } from './signals.ts';
import { DeploymentSlots } from './rate-limits/deployment-slots.ts';
import { withRequestShaping } from './shaped-client.ts';
import { ModelRoutes } from './model-routes.ts';
import { InMemoryRoutingStats, type RoutingStats } from './routing-stats.ts';
import { type RoutingStrategyName, strategyChooser } from './strategies/index.ts';
import { pickDeployment } from './weighted-pick.ts';
import { deploymentsForTags } from './tag-filter.ts';
import type { DeploymentPreference } from './deployment-preference.ts';

const MAX_DERIVED_CLIENTS = 1000;

/** A deployment's client, shaping requests as its config says (dropped params, defaults). */
function clientOf(provider: Provider, deployment: Deployment): ProviderClient {
  return withRequestShaping(provider.createClient(deployment, deployment.settings), {
    dropParams: deployment.dropParams ?? false,
    additionalDropParams: deployment.additionalDropParams ?? [],
    requestDefaults: deployment.requestDefaults ?? {},
    unsupportedParams: provider.unsupportedParams?.(deployment.providerName) ?? [],
  });
}

/** What an operation gets: the client of the chosen deployment and the options to call it with. */
export type RoutedOperation<T> = (client: ProviderClient, call: CallOptions) => Promise<T>;

export interface SendOptions {
  /** The client's signal (disconnect): aborts the attempt and stops retries. */
  signal?: AbortSignal;
  /**
   * With tracing on: each attempt gets a span in `parent` (the request's, a batch line's), named
   * after `operation` (`chat`, `embeddings`, ... as GenAI's `gen_ai.operation.name`).
   */
  trace?: { parent: TraceSpan | undefined; operation: string };
  /** Sent upstream and logged. Client-chosen (`x-request-id`): never used to account for the request. */
  requestId?: string;
  /**
   * What the request is accounted under (a key's `tpm_limit` charges): an object unique to the
   * request, made by Portico (the request's context). Not the request id, which the client picks
   * and may reuse across concurrent requests.
   */
  accountingToken?: object;
  /** Try the configured fallback groups once the group is exhausted. Default true. */
  fallbacks?: boolean;
  /**
   * Whether the caller may use a model group (its key's `models` allowlist): fallback groups it
   * may not use are left out of the plan. Default: every group.
   */
  mayUseGroup?: (group: string) => boolean;
  /**
   * The request's own fallback groups (LiteLLM's client-side `fallbacks`): tried, in order, in
   * place of the configured `fallbacks` of its group when it failed for a general reason.
   */
  fallbackGroups?: readonly string[];
  /** Each attempt's timeout in place of the deployment's (LiteLLM's request `timeout`). */
  timeoutMs?: number;
  /**
   * The request's tags, under `router_settings.enable_tag_filtering`: each group's deployments are
   * narrowed to those that serve them (`tag-filter.ts`). Absent: no tag routing.
   */
  tags?: readonly string[];
  /**
   * Retries after the first attempt, instead of the deployment's `max_retries`. The batch engine
   * passes 0: it reschedules a failed line itself rather than sleeping while holding capacity.
   */
  maxRetries?: number;
  /**
   * Take each attempt from the deployment's `rpm`/`tpm` (`RouterOptions.admission`). Default:
   * true for `send`, false for `sendTo`; pass false for calls that are not model requests
   * (starting a batch upstream). This, not anything the client sends, is what tells live traffic
   * from the batch engine's, which admits and charges its lines itself.
   */
  countAgainstLimits?: boolean;
  /** A streamed request: attempts are timed by the deployment's `stream_timeout` when it has one. */
  stream?: boolean;
  /**
   * The deployments this request prefers (`deployment-preference.ts`): each pick is made among
   * them while any is in play, by the routing strategy as usual. A batch create prefers those
   * with room in their enqueued-token quota.
   */
  prefer?: DeploymentPreference;
  /**
   * The only deployments the request may go to (a continued stored response is readable only
   * where it is stored: `managed/responses/`). No fallback to another group when they fail.
   */
  only?: ReadonlySet<string>;
}

/** One finished attempt, for metrics and logs. */
export interface AttemptReport {
  modelGroup: string;
  deploymentId: string;
  durationMs: number;
  /** 1 for the first attempt of the request. */
  attempt: number;
  error?: unknown;
  /** The request id the attempt was sent with (`SendOptions.requestId`), for logs: client-chosen. */
  requestId?: string;
  /** `SendOptions.accountingToken`: the request to charge the answer's tokens to. */
  accountingToken?: object;
  /**
   * False when the attempt was not taken from the deployment's rpm/tpm (`countAgainstLimits:
   * false`: the batch engine's lines, which it charges itself, and calls that are not model
   * requests): its tokens are not charged to the deployment again.
   */
  countedAgainstLimits?: boolean;
  /** What the operation answered, on success (e.g. an `UpstreamJsonResponse` with `usage`). */
  result?: unknown;
}

/**
 * Per-deployment `rpm`/`tpm` of live requests (implemented over a shared `RateLimiter` in
 * `coordination/live-rate-limits.ts`). A deployment over its limit is skipped like a cooling one
 * while another of the group has room; when none has, the request fails with 429.
 */
export interface DeploymentAdmission {
  /** Cheap and synchronous: false means `admit` is never called for this deployment. */
  appliesTo(deployment: Deployment): boolean;
  /** Takes one request from the deployment's budget: undefined when admitted, else ms until it has room. */
  admit(deployment: Deployment): Promise<number | undefined>;
}

export interface RouterOptions {
  health?: DeploymentHealth;
  admission?: DeploymentAdmission;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
  /** Waits between retries; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  backoff?: BackoffSettings;
  onAttempt?: (report: AttemptReport) => void;
  /** Load of deployments, for `routing_strategy` other than simple-shuffle; default in memory. */
  stats?: RoutingStats;
}

interface AttemptCounter {
  attempts: number;
}

/** 429 when every deployment of the group is at its rpm/tpm: OpenAI's wording, with `retry-after`. */
function deploymentsOverLimit(group: string, retryAfterMs: number): RateLimitError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new RateLimitError(`Rate limit reached for model \`${group}\`: every deployment is at its configured rpm/tpm. Please try again in ${seconds}s.`, {
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
  });
}

/** The group's deployments with a free `max_parallel_requests` slot; all of them when none has one. */
function candidatesWithRoom(candidates: readonly Deployment[], slots: DeploymentSlots): readonly Deployment[] {
  const roomy = candidates.filter((candidate) => slots.hasRoom(candidate));
  return roomy.length === 0 || roomy.length === candidates.length ? candidates : roomy;
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, { signal });
}

export class Router {
  /** Removes the config's secrets (and key-like text) from upstream text. */
  readonly redact: Redactor;
  readonly #config: PorticoConfig;
  readonly #health: DeploymentHealth;
  readonly #admission: DeploymentAdmission | undefined;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #backoff: BackoffSettings;
  readonly #onAttempt: ((report: AttemptReport) => void) | undefined;
  /** Kept only for a load-aware routing strategy. */
  readonly #stats: RoutingStats | undefined;
  /** `max_parallel_requests` of the deployments that set it; undefined when none does (no cost then). */
  #slots: DeploymentSlots | undefined;
  #routes: ModelRoutes;
  readonly #derivedClients = new Map<string, ProviderClient>();
  readonly #clients = new Map<string, ProviderClient>();
  #deployments = new Map<string, Deployment>();
  /** Deployments of models added through the API (`stored-models.ts`), after the config's. */
  #stored: readonly Deployment[] = [];
  readonly #storedListeners: Array<(all: readonly Deployment[]) => void> = [];
  readonly #candidateIds = new WeakMap<readonly Deployment[], readonly string[]>();

  constructor(config: PorticoConfig, options: RouterOptions = {}) {
    this.#config = config;
    this.redact = redactorFor(config);
    this.#health =
      options.health ??
      new InMemoryDeploymentHealth({ allowedFails: config.router.allowedFails, cooldownMs: config.router.cooldownMs, windowMs: FAILURE_WINDOW_MS });
    this.#admission = options.admission;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#onAttempt = options.onAttempt;
    this.#stats = config.router.routingStrategy === 'simple-shuffle' ? undefined : (options.stats ?? new InMemoryRoutingStats());
    for (const deployment of config.deployments) {
      const provider = providerFor(deployment.providerName);
      if (!provider) throw new Error(`no provider registered for "${deployment.providerName}" (deployment ${deployment.id})`);
      // Clients are created once: they hold no per-request state.
      this.#clients.set(deployment.id, clientOf(provider, deployment));
      this.#deployments.set(deployment.id, deployment);
    }
    this.#routes = new ModelRoutes(config);
    this.#slots = config.deployments.some((deployment) => deployment.maxParallelRequests !== undefined) ? new DeploymentSlots() : undefined;
  }

  /**
   * Serves `stored` (the deployments of the models added through the API) beside the config's,
   * in place of the previous ones: routes, clients and listeners (rate limits, secrets) follow.
   * A request already routed finishes on what it picked.
   */
  setStoredDeployments(stored: readonly Deployment[]): void {
    const all = [...this.#config.deployments, ...stored];
    const deployments = new Map<string, Deployment>();
    for (const deployment of all) {
      if (this.#deployments.get(deployment.id) !== deployment || !this.#clients.has(deployment.id)) {
        const provider = providerFor(deployment.providerName);
        if (!provider) throw new Error(`no provider registered for "${deployment.providerName}" (deployment ${deployment.id})`);
        this.#clients.set(deployment.id, clientOf(provider, deployment));
      }
      deployments.set(deployment.id, deployment);
    }
    for (const id of this.#clients.keys()) if (!deployments.has(id)) this.#clients.delete(id);
    // A derived deployment (`<id>~<model>`) of a changed route is derived again.
    this.#derivedClients.clear();
    this.#deployments = deployments;
    this.#stored = stored;
    this.#routes = new ModelRoutes({ deployments: all, router: this.#config.router });
    if (this.#slots === undefined && all.some((deployment) => deployment.maxParallelRequests !== undefined)) this.#slots = new DeploymentSlots();
    this.#health.trackDeployments?.(all.map((deployment) => deployment.id));
    for (const listener of this.#storedListeners) listener(all);
  }

  /** The deployments of models added through the API, as last set. */
  storedDeployments(): readonly Deployment[] {
    return this.#stored;
  }

  /** Called with every deployment (config's and stored) each time the stored ones change. */
  onDeploymentsChange(listener: (all: readonly Deployment[]) => void): void {
    this.#storedListeners.push(listener);
  }

  /** Requests this process has open on `deploymentId` under its `max_parallel_requests` (0 without one). */
  parallelRequestsOf(deploymentId: string): number {
    return this.#slots?.takenOf(deploymentId) ?? 0;
  }

  /** Whether `name` is served: a model group, an alias of one, or a name a wildcard route matches. */
  hasModelGroup(name: string): boolean {
    return this.#routes.has(name);
  }

  /** Whether `name` is an access group (`model_info.access_groups`), which a key's `models` may name. */
  isAccessGroup(name: string): boolean {
    return this.#routes.isAccessGroup(name);
  }

  /** Model groups of `model_list`, in config order (wildcard routes left out). */
  modelGroups(): string[] {
    return this.#routes.groups();
  }

  /** What `/v1/models` lists: model groups, visible aliases, the catalogue models wildcard routes serve. */
  listedModels(): string[] {
    return this.#routes.listed();
  }

  /** `name` and the names that are the same model for a key's allowlist (an alias and its target). */
  equivalentNames(name: string): string[] {
    return this.#routes.equivalents(name);
  }

  /** Whether the key's allowlist lets `principal` use `name` (by it, a wildcard, or an alias's other name). */
  mayUse(principal: Principal, name: string): boolean {
    if (principal.allowedModels === null || this.#routes.equivalents(name).some((other) => mayUseModel(principal, other))) return true;
    // LiteLLM's access groups: a key naming one may use every model group in it.
    const allowed = principal.allowedModels;
    const resolved = this.#routes.resolve(name);
    return resolved !== undefined && this.#routes.accessGroupsOf(resolved).some((accessGroup) => allowed.has(accessGroup));
  }

  /** The deployments serving `group` (an alias: its target's; a wildcard match: derived for it). */
  deploymentsOf(group: string): readonly Deployment[] {
    const resolved = this.#routes.resolve(group);
    return resolved === undefined ? [] : this.#routes.deploymentsOf(resolved);
  }

  /** Every configured deployment, in config order (wildcard routes' derived ones left out). */
  deployments(): readonly Deployment[] {
    return [...this.#deployments.values()];
  }

  /** Until when (ms) each cooling deployment among `ids` is skipped (the others are absent). */
  cooldownEnds(ids: readonly string[]): ReadonlyMap<string, number> {
    return this.#health.cooldownEnds(ids);
  }

  deployment(id: string): Deployment | undefined {
    return this.#deployments.get(id) ?? this.#routes.derivedDeployment(id);
  }

  /** The client of one deployment (managed files/batches are pinned to a deployment). */
  clientFor(deploymentId: string): ProviderClient {
    const client = this.#clients.get(deploymentId) ?? this.#derivedClient(deploymentId);
    if (!client) throw new NotFoundError(`Unknown deployment '${deploymentId}'.`);
    return client;
  }

  /** A wildcard route's client for one model name: cheap to make (the HTTP pool is shared), kept a while. */
  #derivedClient(deploymentId: string): ProviderClient | undefined {
    let client = this.#derivedClients.get(deploymentId);
    if (client !== undefined) return client;
    const deployment = this.#routes.derivedDeployment(deploymentId);
    if (!deployment) return undefined;
    client = clientOf(providerFor(deployment.providerName) as Provider, deployment);
    if (this.#derivedClients.size >= MAX_DERIVED_CLIENTS) this.#derivedClients.clear();
    this.#derivedClients.set(deploymentId, client);
    return client;
  }

  /**
   * Runs `operation` on a deployment of `modelGroup`, with retries and fallbacks.
   * Throws the last error when every attempt failed.
   */
  async send<T>(modelGroup: string, operation: RoutedOperation<T>, options: SendOptions = {}): Promise<T> {
    if (!this.hasModelGroup(modelGroup)) {
      throw new NotFoundError(`The model \`${modelGroup}\` does not exist or you do not have access to it.`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    // An alias runs as its target, with the target's fallbacks.
    modelGroup = this.#routes.resolve(modelGroup) ?? modelGroup;
    const counter: AttemptCounter = { attempts: 0 };
    try {
      return await this.#runOnGroup(modelGroup, this.deploymentsOf(modelGroup), operation, options, counter);
    } catch (error) {
      const kind = options.fallbacks === false || options.only !== undefined || options.signal?.aborted ? undefined : failureKindOf(error);
      if (kind === undefined) throw error;
      let lastError = error;
      const settings = options.fallbackGroups === undefined || kind !== 'general' ? this.#config.router : { ...this.#config.router, fallbacks: { [modelGroup]: options.fallbackGroups } };
      for (const target of fallbackTargets(modelGroup, kind, settings, (name) => this.#fallbackTarget(name), options.mayUseGroup)) {
        const candidates = target.kind === 'group' ? this.deploymentsOf(target.group) : [this.#deployments.get(target.id) as Deployment];
        try {
          return await this.#runOnGroup(target.group, candidates, operation, options, counter);
        } catch (fallbackError) {
          lastError = fallbackError;
          if (options.signal?.aborted || failureKindOf(fallbackError) === undefined) throw fallbackError;
        }
      }
      throw lastError;
    }
  }

  /** A fallback name: a model group, else a deployment's id (LiteLLM: fallback to a specific model id). */
  #fallbackTarget(name: string): FallbackTarget | undefined {
    if (this.hasModelGroup(name)) return { kind: 'group', group: name };
    const deployment = this.#deployments.get(name);
    return deployment === undefined ? undefined : { kind: 'deployment', id: deployment.id, group: deployment.modelGroup };
  }

  /**
   * Runs `operation` on one given deployment (a file or batch that lives there), with the
   * deployment's timeout and retries on that same deployment; no fallback.
   */
  async sendTo<T>(deploymentId: string, operation: RoutedOperation<T>, options: Omit<SendOptions, 'fallbacks'> = {}): Promise<T> {
    const deployment = this.deployment(deploymentId);
    if (!deployment) throw new NotFoundError(`Unknown deployment '${deploymentId}'.`);
    // Calls pinned to a deployment (files, batches, the batch engine's lines, which the engine
    // admits itself) are not live model requests: no rpm/tpm admission unless asked.
    return this.#runOnGroup(deployment.modelGroup, [deployment], operation, { ...options, countAgainstLimits: options.countAgainstLimits ?? false }, { attempts: 0 });
  }

  async #runOnGroup<T>(
    group: string,
    groupDeployments: readonly Deployment[],
    operation: RoutedOperation<T>,
    options: SendOptions,
    counter: AttemptCounter,
  ): Promise<T> {
    const only = options.only;
    const tagged = options.tags === undefined ? groupDeployments : deploymentsForTags(group, groupDeployments, options.tags, this.#config.router.tagFilteringMatchAll === true);
    const candidates = only === undefined ? tagged : tagged.filter((deployment) => only.has(deployment.id));
    const tried = new Set<string>();
    /** Deployments found over their rpm/tpm during this request -> ms until they have room. */
    const full = new Map<string, number>();
    const admission = options.countAgainstLimits === false ? undefined : this.#admission;
    const reportFields = {
      // A wildcard route reports as its model_name (`openai/*`), not as each name clients send.
      modelGroup: candidates[0]?.modelGroup ?? group,
      requestId: options.requestId,
      accountingToken: options.accountingToken,
      countedAgainstLimits: options.countAgainstLimits !== false,
    };
    let retries = 0;
    const coolingNow = this.#coolingAmong(candidates);
    let cooling = coolingNow instanceof Promise ? await coolingNow : coolingNow;
    const stats = this.#stats;
    // No await on the usual path (simple-shuffle): the weighted shuffle is synchronous.
    let choose = candidates.length <= 1 || stats === undefined ? undefined : await this.#strategyChooser(stats, candidates);
    const prefer = options.prefer;
    // Live requests only: calls pinned to a deployment (the batch engine's lines have their own
    // `batch_concurrency`) take no slot. While a deployment of the group has a free slot, the pick
    // is among those that do; when none has, the request waits for the picked one's.
    const slots = options.countAgainstLimits === false ? undefined : this.#slots;
    let deployment = pickDeployment({ candidates: slots === undefined ? candidates : candidatesWithRoom(candidates, slots), cooling, tried, random: this.#random, choose, prefer });
    for (;;) {
      // No promise, no limiter call, for a deployment without rpm/tpm (the common case).
      if (admission && deployment && admission.appliesTo(deployment)) deployment = await this.#admitted(admission, deployment, candidates, cooling, tried, full);
      if (!deployment) {
        if (full.size > 0) throw deploymentsOverLimit(group, Math.min(...full.values()));
        throw new NotFoundError(`The model \`${group}\` has no deployments.`, { param: 'model', code: 'model_not_found' });
      }
      tried.add(deployment.id);
      const started = performance.now();
      counter.attempts += 1;
      // Disarmed when the attempt is over (or, for a streamed body, when the body closes).
      const attempt = attemptSignal(options.signal, options.timeoutMs ?? (options.stream ? deployment.streamTimeoutMs : undefined) ?? deployment.timeoutMs);
      if (slots !== undefined && deployment.maxParallelRequests !== undefined) await this.#takeSlot(slots, deployment, attempt, group, options.signal);
      try {
        let result: T;
        stats?.started(deployment.id);
        let succeeded = false;
        const tracer = options.trace === undefined ? undefined : activeTracer();
        const span = tracer === undefined ? undefined : startAttemptSpan(tracer, options.trace!, deployment, counter.attempts);
        try {
          const call = { signal: attempt.signal, requestId: options.requestId };
          const client = this.clientFor(deployment.id);
          result = span === undefined ? await operation(client, call) : await attemptTraceparent.run(tracer!.traceparentOf(span), () => operation(client, call));
          succeeded = true;
          if (span !== undefined) endAttemptSpan(tracer!, span, result);
        } catch (error) {
          if (span !== undefined) tracer!.end(span, error);
          throw error;
        } finally {
          attempt.settle();
          stats?.finished(deployment.id, succeeded ? performance.now() - started : undefined);
        }
        this.#report({ ...reportFields, deploymentId: deployment.id, durationMs: performance.now() - started, attempt: counter.attempts, result });
        const recorded = this.#health.recordSuccess(deployment.id);
        if (recorded !== undefined) await recorded;
        return result;
      } catch (error) {
        this.#scrub(error);
        this.#report({ ...reportFields, deploymentId: deployment.id, durationMs: performance.now() - started, attempt: counter.attempts, error });
        if (options.signal?.aborted) throw abortedError(error);
        const allowedFailsPolicy = this.#config.router.allowedFailsPolicy;
        if (!this.#config.router.disableCooldowns && countsAsDeploymentFailure(error, allowedFailsPolicy)) await this.#health.recordFailure(deployment.id, deployment.cooldownMs, allowedFailsFor(error, allowedFailsPolicy));
        // The retry policy is the live requests': a caller that sets its own retries (the batch engine's lines) keeps them.
        const retryPolicy = this.#config.router.modelGroupRetryPolicy?.[group] ?? this.#config.router.retryPolicy;
        if (!shouldRetry(error, retries, options.maxRetries ?? deployment.maxRetries, options.maxRetries === undefined ? retryPolicy : undefined)) throw error;
        const delay = Math.max(retryDelayMs(error, retries, this.#random, this.#backoff), this.#config.router.retryAfterMs ?? 0);
        retries += 1;
        cooling = await this.#coolingAmong(candidates);
        if (choose !== undefined) choose = await this.#strategyChooser(stats!, candidates);
        const next = pickDeployment({ candidates: slots === undefined ? candidates : candidatesWithRoom(candidates, slots), cooling, tried, random: this.#random, choose, prefer });
        // Another deployment can be tried at once; the same one gets the backoff first.
        if (!next || next.id === deployment.id) {
          try {
            await this.#sleep(delay, options.signal);
          } catch (sleepError) {
            throw abortedError(sleepError);
          }
        }
        deployment = next;
      }
    }
  }

  /**
   * A slot of `deployment`'s `max_parallel_requests` for this attempt, given back when the attempt
   * is over (a stream: when its body ends). The wait counts against the attempt's timeout; run
   * out, it is a 429, not a failure of the deployment (nothing was sent).
   */
  async #takeSlot(slots: DeploymentSlots, deployment: Deployment, attempt: AttemptSignal, group: string, clientSignal: AbortSignal | undefined): Promise<void> {
    const waiting = slots.take(deployment, attempt.signal);
    if (waiting !== undefined) {
      try {
        await waiting;
      } catch (error) {
        attempt.settle();
        if (clientSignal?.aborted) throw abortedError(error);
        throw new RateLimitError(
          `Rate limit reached for model \`${group}\`: its deployment has ${deployment.maxParallelRequests} requests open (max_parallel_requests), and none ended within the timeout.`,
          { headers: { 'retry-after': '1' } },
        );
      }
    }
    attempt.whenDone(() => slots.release(deployment.id));
  }

  /** The configured strategy's pick, over the candidates' current load. */
  async #strategyChooser(stats: RoutingStats, candidates: readonly Deployment[]): Promise<(pool: readonly Deployment[]) => Deployment | undefined> {
    const load = await stats.loadOf(candidates.map((candidate) => candidate.id));
    return strategyChooser(this.#config.router.routingStrategy as Exclude<RoutingStrategyName, 'simple-shuffle'>, load, this.#random);
  }

  /**
   * `deployment` if its rpm/tpm admits the attempt; else another of the group that does (each
   * refusal is remembered in `full`); undefined when none does.
   */
  async #admitted(
    admission: DeploymentAdmission,
    deployment: Deployment,
    candidates: readonly Deployment[],
    cooling: ReadonlySet<string>,
    tried: ReadonlySet<string>,
    full: Map<string, number>,
  ): Promise<Deployment | undefined> {
    let current: Deployment | undefined = deployment;
    while (current && admission.appliesTo(current)) {
      const waitMs = await admission.admit(current);
      if (waitMs === undefined) return current;
      full.set(current.id, waitMs);
      current = pickDeployment({ candidates: candidates.filter((d) => !full.has(d.id)), cooling, tried, random: this.#random });
    }
    return current;
  }

  /**
   * The cooling deployments among `candidates`. Not an `async` method: the in-memory store
   * answers synchronously, and the hot path need not wait a microtask for it.
   */
  #coolingAmong(candidates: readonly Deployment[]): ReadonlySet<string> | Promise<ReadonlySet<string>> {
    let ids = this.#candidateIds.get(candidates);
    if (ids === undefined) {
      ids = candidates.map((d) => d.id);
      // A group's list is frozen and lives as long as the router: its ids are worth keeping.
      if (Object.isFrozen(candidates)) this.#candidateIds.set(candidates, ids);
    }
    return this.#health.coolingDown(ids);
  }

  /** Redacts an upstream error's message in place, before anything else sees the error. */
  #scrub(error: unknown): void {
    if (!(error instanceof GatewayError)) return;
    const clean = this.redact(error.message);
    if (clean !== error.message) error.message = clean;
  }

  #report(report: AttemptReport): void {
    try {
      this.#onAttempt?.(report);
    } catch {
      // An observer never breaks a request.
    }
  }
}

/** An upstream attempt's span, with the GenAI semantic conventions' request attributes. */
function startAttemptSpan(tracer: Tracer, trace: NonNullable<SendOptions['trace']>, deployment: Deployment, attempt: number): TraceSpan {
  return tracer.startSpan(`${trace.operation} ${deployment.upstreamModel}`, trace.parent, 'client', {
    'gen_ai.operation.name': trace.operation,
    'gen_ai.system': deployment.providerName,
    'gen_ai.request.model': deployment.upstreamModel,
    'portico.model_group': deployment.modelGroup,
    'portico.deployment_id': deployment.id,
    'portico.attempt': attempt,
    'server.address': deployment.apiBase,
  });
}

/** Ends an attempt's span with what its answer says (model, id, usage), when it is JSON. */
function endAttemptSpan(tracer: Tracer, span: TraceSpan, result: unknown): void {
  const body = (result as { body?: unknown } | null)?.body;
  if (body !== null && typeof body === 'object' && !(Symbol.asyncIterator in body)) {
    const answer = body as { id?: unknown; model?: unknown; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; input_tokens?: unknown; output_tokens?: unknown } };
    const usage = answer.usage;
    const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
    tracer.setAttributes(span, {
      'gen_ai.response.id': typeof answer.id === 'string' ? answer.id : undefined,
      'gen_ai.response.model': typeof answer.model === 'string' ? answer.model : undefined,
      'gen_ai.usage.input_tokens': number(usage?.prompt_tokens) ?? number(usage?.input_tokens),
      'gen_ai.usage.output_tokens': number(usage?.completion_tokens) ?? number(usage?.output_tokens),
    });
  }
  tracer.end(span);
}
