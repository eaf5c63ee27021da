/**
 * Starting and stopping a Portico server: open the database (migrations run), build the
 * services and the app, listen; and the graceful stop the CLI runs on SIGTERM/SIGINT.
 *
 * Graceful stop: stop accepting connections (new requests on kept-alive connections get 503 with
 * `connection: close`), let in-flight requests and streams finish for up to `shutdownGraceMs`,
 * then cut what is left (which aborts those upstream calls). Meanwhile, and at the same time, the
 * background jobs stop and give their leases back (the poller finishes its pass and releases the
 * batches it held; the batch engine lets its running lines finish, then hands the rest back to
 * `pending`), so another instance takes their work over at once. Then Redis, the blob store's
 * client and the database are closed.
 *
 * Shared state: with `REDIS_URL`, rate-limit counters and deployment cooldowns live in Redis
 * (`coordination/shared-state.ts`), shared by every instance; without it, in memory.
 */
import { EndUserLimits } from './end-user-limits.ts';
import { EndUserStore } from '../storage/end-user-store.ts';
import type { RequestContext } from './request-context.ts';
import { GatewayError } from '../spec/errors.ts';
import { LiteLLMPrometheusMetrics } from '../observability/litellm-prometheus.ts';
import { SlackAlerts } from '../observability/slack-alerts.ts';
import { createResponseCache } from '../caching/response-cache-store.ts';
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { PorticoConfig } from '../config/types.ts';
import { KeyService } from '../auth/key-service.ts';
import { ConsoleSessions } from '../auth/console-sessions.ts';
import { ConsoleSessionStore } from '../storage/console-session-store.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { Router } from '../routing/router.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { KeyStore } from '../storage/key-store.ts';
import { TeamStore } from '../storage/team-store.ts';
import { UserStore } from '../storage/user-store.ts';
import { createKeyBudgetResetJob } from '../jobs/key-budget-reset.ts';
import { createBackgroundJobs, type BackgroundJob, type BackgroundJobs } from '../jobs/background-jobs.ts';
import { createSpendRetentionJob } from '../jobs/spend-retention.ts';
import { JobLeaseStore } from '../storage/job-lease-store.ts';
import { createBatchSystem } from '../jobs/batch-system.ts';
import { chargeRoutingUsage } from '../coordination/routing-usage.ts';
import { createSharedState, type SharedState } from '../coordination/shared-state.ts';
import { buildApp } from './app.ts';
import { SpendLogStore } from '../storage/spend-log-store.ts';
import { WebhookStore } from '../storage/webhook-store.ts';
import { WebhookOutbox } from '../webhooks/webhook-outbox.ts';
import { SpendLedger } from '../spend/spend-ledger.ts';
import { LiveSpendRecorder } from './spend-recording.ts';
import { HANDLER_SETTLE_MS } from './running-handlers.ts';
import type { AppOptions, AppServices } from './services.ts';
import { ModelBudgets } from './model-budgets.ts';
import { ProxyBudget } from './proxy-budget.ts';
import { StoredModels } from './stored-models.ts';
import { StoredModelStore } from '../storage/stored-model-store.ts';
import { StoredModelCipher } from '../storage/stored-model-cipher.ts';
import { OwnedResponses } from '../managed/responses/owned-responses.ts';
import { StoredResponseStore } from '../storage/stored-response-store.ts';
import { createStoredResponseRetentionJob } from '../jobs/stored-response-retention.ts';
import { STORED_MODELS_NEED_A_SECRET } from './routes/model-management.ts';
import { useUpstreamConnection } from '../providers/http/agent.ts';
import { forwardClientHeaders } from '../providers/http/client-headers.ts';

export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

export interface StartOptions extends AppOptions {
  config: PorticoConfig;
  /** `DATABASE_URL`; unset -> `./portico.db`. */
  databaseUrl: string | undefined;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** How long a stop waits for in-flight requests and streams before cutting them. */
  shutdownGraceMs?: number;
  /** `REDIS_URL`: rate limits and cooldowns shared across instances; unset: in memory. */
  redisUrl?: string;
  /** `PORTICO_REDIS_PREFIX`: prefix of every Redis key (default `portico:`). */
  redisPrefix?: string;
}

export interface RunningPortico {
  readonly app: FastifyInstance;
  readonly services: AppServices;
  /** `http://host:port`, with 127.0.0.1 for a wildcard host. */
  readonly url: string;
  readonly port: number;
  /** The batch poller, file janitor and batch engine of this instance. */
  readonly jobs: BackgroundJobs;
  /** Graceful stop; safe to call more than once. */
  close(): Promise<void>;
}

/** How long a stopping batch engine lets its running lines finish, at most. */
const ENGINE_DRAIN_MS = 5_000;

/**
 * `shared`: where rate limits and cooldowns live (`createSharedState`); default: in memory.
 * `shutdownGraceMs`: a stop never waits longer than this for the batch engine's lines either.
 */
export async function createServices(
  config: PorticoConfig,
  database: Database,
  logger: Logger,
  shared?: SharedState,
  options: { shutdownGraceMs?: number } = {},
): Promise<AppServices> {
  // Before any upstream call: how their certificates are verified (`litellm_settings.ssl_verify`),
  // over which IP version (`force_ipv4`).
  useUpstreamConnection(config.upstreamConnection);
  forwardClientHeaders(config.forwardClientHeaders);
  const metrics = new GatewayMetrics({ modelGroups: [...new Set(config.deployments.map((deployment) => deployment.modelGroup))], clusterWorker: cluster.isWorker });
  const state = shared ?? (await createSharedState({ config, logger }));
  const limits = state.limits;
  const redis = state.redis;
  if (redis) metrics.watchRedis(() => redis.ready);
  // Live requests are admitted against the deployments' rpm/tpm (and their tokens charged after
  // the answer) on the same counters the batch engine takes its share from, so the engine leaves
  // live traffic its share. (This replaces `liveTrafficMeter`: counting both would count twice.)
  // One outbox for the batch events and the budget events the ledger's flushes write.
  const webhooks = new WebhookOutbox(new WebhookStore(database), config.webhooks);
  const budgetEvents = webhooks.budgetEvents;
  const spendLogs = new SpendLogStore(database, budgetEvents === undefined ? {} : { budgetEvents });
  const ledger = config.spendLogs.enabled
    ? new SpendLedger({
        store: spendLogs,
        flushIntervalMs: config.spendLogs.flushIntervalMs,
        maxQueueRows: config.spendLogs.maxQueueRows,
        onWritten: (rows) => metrics.observeSpendRows(rows),
        onDropped: (count) => metrics.observeSpendRowsDropped(count),
        onFlushError: (error, queued) => logger.warn({ err: error, queued_rows: queued }, 'spend ledger: writing rows failed; retrying'),
      })
    : undefined;
  let spend: LiveSpendRecorder | undefined;
  let litellmMetrics: LiteLLMPrometheusMetrics | undefined;
  const router = new Router(config, {
    health: state.health,
    admission: limits.deploymentAdmission,
    stats: state.routingStats,
    onAttempt: (attempt) => {
      spend?.noteAttempt(attempt);
      metrics.observeUpstreamAttempt(attempt);
      limits.observeAttempt(attempt);
      litellmMetrics?.observeAttempt(attempt.deploymentId, attemptRequest(attempt.accountingToken), attempt.error === undefined ? undefined : { status: statusOfError(attempt.error) });
      if (config.router.routingStrategy === 'usage-based-routing-v2') chargeRoutingUsage(state.routingStats, attempt);
    },
  });
  if (config.prometheusCallback) {
    litellmMetrics = new LiteLLMPrometheusMetrics(metrics.registry, {
      masterKey: config.masterKey,
      deployment: (id) => router.deployment(id),
      cooldownEnd: (id) => router.cooldownEnds([id]).get(id),
      endUsers: config.prometheusEndUsers === true,
    });
  }
  // Models added through the API join the config's before anything is served; their rpm/tpm apply.
  router.onDeploymentsChange((all) => limits.setDeployments(all));
  const storedModels = config.storeModelsInDb ? storedModelsOf(config, database, router, logger, state) : undefined;
  await storedModels?.start();
  if (ledger !== undefined) {
    spend = new LiveSpendRecorder(ledger, router, litellmMetrics);
    metrics.watchSpendQueue(() => ledger.queued);
  }
  const keyStore = new KeyStore(database);
  const teams = new TeamStore(database);
  const users = new UserStore(database);
  const keys = new KeyService(keyStore, {
    owners: { findUser: (id) => users.find(id), findTeam: (id) => teams.find(id) },
    masterKey: config.masterKey,
    ...(config.keyCacheTtlMs !== undefined && { cache: { ttlMs: config.keyCacheTtlMs } }),
    onCacheRefreshError: (error) => logger.warn({ err: error }, 'key cache: background refresh failed; serving the cached entry'),
    evictions: state.keyEvictions,
  });
  const consoleSessions = new ConsoleSessions(new ConsoleSessionStore(database), keys, { masterKey: config.masterKey });
  // One checker of each for live requests (`rate-limit-hook.ts`) and batch creates: one cache of sums.
  const modelBudgets = new ModelBudgets(spendLogs, { ttlMs: config.keyCacheTtlMs });
  const endUsers = new EndUserStore(database);
  const endUserLimits = new EndUserLimits(endUsers, spendLogs, { ...(config.maxEndUserBudget !== undefined && { maxEndUserBudget: config.maxEndUserBudget }), ...(config.keyCacheTtlMs !== undefined && { ttlMs: config.keyCacheTtlMs }) });
  const proxyBudget = config.proxyBudget === undefined ? undefined : new ProxyBudget(spendLogs, config.proxyBudget, { ttlMs: config.keyCacheTtlMs });
  const batchSystem = await createBatchSystem({
    config,
    database,
    router,
    logger,
    webhooks,
    // A batch's create is held to the proxy's `max_budget` and its model group to `model_max_budget`, as a live request is.
    checkSpendBudgets: async (principal, modelGroup) => {
      if (proxyBudget !== undefined && ProxyBudget.appliesTo(principal)) await proxyBudget.check();
      if (ModelBudgets.appliesTo(principal, modelGroup)) await modelBudgets.check(principal, modelGroup);
    },
    engine: {
      limiter: state.limiter,
      drainMs: Math.min(ENGINE_DRAIN_MS, options.shutdownGraceMs ?? ENGINE_DRAIN_MS),
      keyLimits: (ids) => keyStore.limitsOf(ids),
    },
  });
  const { managed } = batchSystem;
  const batchEngine = batchSystem.newEngine();
  const responseCache = config.responseCache === undefined ? undefined : await createResponseCache(config.responseCache, redis, logger);
  const slackAlerts = config.slackAlerts === undefined ? undefined : new SlackAlerts(config.slackAlerts, logger);
  return {
    config,
    database,
    router,
    // Responses' ids are sealed under the secret stored models use: every instance reads every other's.
    ownedResponses: new OwnedResponses({ router, secret: process.env.LITELLM_SALT_KEY || config.masterKey, store: new StoredResponseStore(database), logger }),
    keys,
    teams,
    users,
    consoleSessions,
    metrics,
    ...(litellmMetrics !== undefined && { litellmMetrics }),
    logger,
    managed,
    batchEngine,
    limits,
    spend,
    spendLogs,
    modelBudgets,
    ...(proxyBudget !== undefined && { proxyBudget }),
    endUserLimits,
    endUsers,
    ...(storedModels !== undefined && { storedModels }),
    ...(responseCache !== undefined && { responseCache }),
    ...(slackAlerts !== undefined && { slackAlerts }),
    startedAt: Math.floor(Date.now() / 1000),
  };
}

/**
 * `store_model_in_db`: the stored models' provider keys are encrypted under LiteLLM's
 * `LITELLM_SALT_KEY`, else the master key. With neither there is nothing to encrypt them with:
 * the gateway starts (the config's models are served) and the model API says why it is off.
 */
function storedModelsOf(config: PorticoConfig, database: Database, router: Router, logger: Logger, state: SharedState): StoredModels | undefined {
  const secret = process.env.LITELLM_SALT_KEY || config.masterKey;
  if (secret === undefined) {
    logger.warn(`general_settings.store_model_in_db: ${STORED_MODELS_NEED_A_SECRET}; models are read from the config file only`);
    return undefined;
  }
  return new StoredModels({ config, store: new StoredModelStore(database, new StoredModelCipher(secret)), router, logger, ...(config.storedModelsPollMs !== undefined && { pollMs: config.storedModelsPollMs }), ...(state.modelChanges !== undefined && { notices: state.modelChanges }) });
}

export async function startServer(options: StartOptions): Promise<RunningPortico> {
  const { config, logger } = options;
  const database = await openDatabase(options.databaseUrl, config.database);
  let app: FastifyInstance;
  let services: AppServices | undefined;
  let jobs: BackgroundJobs;
  let shared: SharedState | undefined;
  try {
    shared = await createSharedState({ config, logger, redisUrl: options.redisUrl, redisPrefix: options.redisPrefix, clusterWorker: cluster.isWorker });
    services = await createServices(config, database, logger, shared, { shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS });
    const extraJobs: BackgroundJob[] = services.batchEngine ? [services.batchEngine] : [];
    const retentionMs = config.spendLogs.retentionMs;
    if (retentionMs !== undefined && services.spendLogs !== undefined) {
      extraJobs.push(createSpendRetentionJob({ store: services.spendLogs, leases: new JobLeaseStore(database), retentionMs, intervalMs: config.spendLogs.retentionIntervalMs, logger }));
    }
    extraJobs.push(createStoredResponseRetentionJob(new StoredResponseStore(database), logger));
    extraJobs.push(createKeyBudgetResetJob(new KeyStore(database), logger, undefined, { users: services.users, teams: services.teams }));
    jobs = createBackgroundJobs(config, services.managed!, logger, extraJobs, { quotaReleases: shared.quotaReleases });
    // Handlers cut at the end of the grace period get at most as long again to clean up.
    app = await buildApp(services, { ...options, handlerSettleMs: Math.min(HANDLER_SETTLE_MS, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) });
    await app.listen({ host: options.host, port: options.port });
    jobs.start();
  } catch (error) {
    await shared?.close().catch(() => {});
    await services?.managed?.blobs.close?.();
    await database.close().catch(() => {});
    throw error;
  }
  const sharedState = shared;
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= stopGracefully(app, services, jobs, sharedState, graceMs);
    return closing;
  };
  return { app, services, url, port, jobs, close };
}

async function stopGracefully(app: FastifyInstance, services: AppServices, jobs: BackgroundJobs, shared: SharedState, graceMs: number): Promise<void> {
  const timer = setTimeout(() => {
    services.logger.warn({ grace_ms: graceMs }, 'shutdown: grace period over, closing the remaining connections');
    app.server.closeAllConnections();
  }, graceMs);
  timer.unref();
  try {
    // Together: the server stops accepting and drains, the jobs finish and give their leases back.
    const [server, background] = await Promise.allSettled([app.close(), jobs.stop()]);
    if (background.status === 'rejected') services.logger.warn({ err: background.reason }, 'shutdown: stopping the background jobs failed; their leases expire by themselves');
    if (server.status === 'rejected') throw server.reason;
  } finally {
    clearTimeout(timer);
    // After the server drained: every request's row is queued by now.
    await services.slackAlerts?.flush();
    await services.spend?.ledger.close().catch((error: unknown) => services.logger.error({ err: error, queued_rows: services.spend?.ledger.queued }, 'shutdown: spend rows could not be written'));
    await closeRouter(services.router);
    await shared.close().catch((error: unknown) => services.logger.warn({ err: error }, 'shutdown: closing redis failed'));
    await services.managed?.blobs.close?.();
    await services.database.close();
  }
}

/** The router may hold pooled upstream connections. */
async function closeRouter(router: unknown): Promise<void> {
  const close = (router as { close?: () => Promise<void> | void }).close;
  if (typeof close === 'function') await close.call(router);
}

/** The live request an attempt was for (its context is the router's accounting token), if it was one. */
function attemptRequest(token: unknown): RequestContext | undefined {
  return token !== null && typeof token === 'object' && 'requestId' in token && 'principal' in token ? (token as RequestContext) : undefined;
}

/** The HTTP status an attempt's error stands for (a transport failure: 500). */
function statusOfError(error: unknown): number {
  return error instanceof GatewayError ? error.httpStatus : 500;
}
