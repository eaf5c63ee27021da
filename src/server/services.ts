/**
 * Everything a route module may use, built once at start and passed to every route module.
 * Route families added later (managed Files/Batches) extend this interface with their own
 * services (stores, blob store, ...) rather than reaching for globals.
 */
import type { OwnedResponses } from '../managed/responses/owned-responses.ts';
import type { EndUserLimits } from './end-user-limits.ts';
import type { EndUserStore } from '../storage/end-user-store.ts';
import type { LiteLLMPrometheusMetrics } from '../observability/litellm-prometheus.ts';
import type { SlackAlerts } from '../observability/slack-alerts.ts';
import type { ResponseCache } from '../caching/response-cache-store.ts';
import type { FastifyInstance } from 'fastify';
import type { PorticoConfig } from '../config/types.ts';
import type { Router } from '../routing/router.ts';
import type { Database } from '../storage/database.ts';
import type { KeyService } from '../auth/key-service.ts';
import type { TeamStore } from '../storage/team-store.ts';
import type { UserStore } from '../storage/user-store.ts';
import type { ConsoleSessions } from '../auth/console-sessions.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { ManagedServices } from '../managed/managed-services.ts';
import type { LiveRateLimits } from '../coordination/live-rate-limits.ts';
import type { BatchEngine } from '../jobs/batch-engine.ts';
import type { LiveSpendRecorder } from './spend-recording.ts';
import type { SpendLogStore } from '../storage/spend-log-store.ts';
import type { StoredModels } from './stored-models.ts';
import type { ModelBudgets } from './model-budgets.ts';
import type { ProxyBudget } from './proxy-budget.ts';

export interface AppServices {
  readonly config: PorticoConfig;
  readonly database: Database;
  readonly router: Router;
  /** The Responses API's stored responses: their sealed ids and the follow-up routes (`managed/responses/`). */
  readonly ownedResponses?: OwnedResponses;
  readonly keys: KeyService;
  /** Teams and users (`/team/*`, `/user/*`): budget subjects of the keys that name them. */
  readonly teams?: TeamStore;
  readonly users?: UserStore;
  /** Web console sessions (`/ui`): a session cookie stands for its key on every route. */
  readonly consoleSessions?: ConsoleSessions;
  readonly metrics: GatewayMetrics;
  /** LiteLLM's Prometheus metrics (`callbacks: ["prometheus"]`), beside Portico's; absent: off. */
  readonly litellmMetrics?: LiteLLMPrometheusMetrics;
  readonly logger: Logger;
  /** Gateway-owned Files and Batches (ids, ownership, placement, state). */
  readonly managed?: ManagedServices;
  /** Runs the lines of emulated batches; started and stopped with the other background jobs. */
  readonly batchEngine?: BatchEngine;
  /**
   * Rate limits of live traffic (per key, per deployment) over the shared or in-memory limiter
   * (`coordination/shared-state.ts`); absent: no limits are enforced.
   */
  readonly limits?: LiveRateLimits;
  /** The spend ledger's recorder of live requests; absent with `disable_spend_logs: true`. */
  readonly spend?: LiveSpendRecorder;
  /** The spend ledger's table, for the spend APIs. */
  readonly spendLogs?: SpendLogStore;
  /** `model_max_budget` of keys, users and teams, checked by live requests and batch creates. */
  readonly modelBudgets?: ModelBudgets;
  /** LiteLLM's customers (`/customer/*`): their blocks and budgets, and `max_end_user_budget`, checked by the model routes for the end user a request names. */
  readonly endUserLimits?: EndUserLimits;
  readonly endUsers?: EndUserStore;
  /** Models added through the API (`store_model_in_db`); absent when models come from the config file only. */
  readonly storedModels?: StoredModels;
  /** LiteLLM's proxy budget (`litellm_settings.max_budget`), checked by live requests and batch creates; absent: none. */
  readonly proxyBudget?: ProxyBudget;
  /** LiteLLM's response cache (`litellm_settings.cache`); absent: off. */
  readonly responseCache?: ResponseCache;
  /** LiteLLM's Slack alerting, when configured (`observability/slack-alerts.ts`). */
  readonly slackAlerts?: SlackAlerts;
  /** Unix seconds at start: the `created` of every entry in `/v1/models`. */
  readonly startedAt: number;
}

/** Server knobs that are not part of the LiteLLM config file (environment / CLI). */
export interface AppOptions {
  /** `PORTICO_METRICS_PUBLIC=1`: serve `/metrics` without the master key. */
  metricsPublic?: boolean;
  /** Largest JSON body accepted, bytes (413 above). Default 32 MiB: chat requests carry images. */
  bodyLimitBytes?: number;
  /** The route modules to register; defaults to `ROUTE_MODULES`. */
  routes?: readonly RouteModule[];
  /**
   * How long a stop waits for handlers whose connections it cut to clean up after themselves
   * (`running-handlers.ts`); default 5 s.
   */
  handlerSettleMs?: number;
}

/** What a route may require of its caller. Set per route as `config: { auth }`. */
export type AuthRequirement =
  /** No key (health probes). */
  | 'none'
  /** Any valid key: the master or a virtual key. The default. */
  | 'key'
  /** The master key only (key administration). */
  | 'master'
  /** The master key, unless `metricsPublic`. */
  | 'metrics';

/** One family of routes (chat, models, keys, files, ...), registered from `routes/index.ts`. */
export interface RouteModule {
  readonly name: string;
  register(app: FastifyInstance, services: AppServices): void | Promise<void>;
}
