/**
 * Portico's resolved configuration: what `config/load-config.ts` builds from a LiteLLM-style
 * YAML file and the environment. Frozen after load.
 */
import type { AllowedFailsPolicy, RetryPolicy } from '../routing/retry-policy.ts';
import type { RoutingStrategyName } from '../routing/strategies/index.ts';
import type { Deployment } from '../spec/provider.ts';
import type { UpstreamConnection } from '../providers/http/agent.ts';
import type { SlackAlertSettings } from '../observability/slack-alerts.ts';
import type { TraceExport } from '../observability/tracing.ts';

export interface RouterSettings {
  /** Extra attempts after the first, across deployments of the group (LiteLLM `num_retries`). */
  readonly numRetries: number;
  /** Default per-request upstream timeout, milliseconds (LiteLLM `timeout`, seconds in YAML). */
  readonly timeoutMs: number;
  /** LiteLLM's `routing_strategy`: how a deployment of the group is picked (`routing/strategies/`). */
  readonly routingStrategy: RoutingStrategyName;
  /** Model group -> groups (or deployment ids) to try, in order, when every deployment of it failed. */
  readonly fallbacks: Readonly<Record<string, readonly string[]>>;
  /**
   * LiteLLM's `enable_pre_call_checks`: a request is sent only to deployments whose context window
   * (`Deployment.maxInputTokens`) holds its estimated prompt, while any does; when none does, to
   * any (its error then leads to `context_window_fallbacks`).
   */
  readonly preCallChecks: boolean;
  /** LiteLLM's `retry_policy`: retries by the class of the error, in place of `num_retries` for it; absent: none. */
  readonly retryPolicy?: RetryPolicy;
  /** LiteLLM's `model_group_retry_policy`: a group's own `retry_policy`, in place of the router's for it. */
  readonly modelGroupRetryPolicy?: Readonly<Record<string, RetryPolicy>>;
  /** The same, when the prompt exceeded the model's context window (`context_window_fallbacks`). */
  readonly contextWindowFallbacks: Readonly<Record<string, readonly string[]>>;
  /** The same, when the provider's content policy refused the request (`content_policy_fallbacks`). */
  readonly contentPolicyFallbacks: Readonly<Record<string, readonly string[]>>;
  /** Fallbacks of every group without its own `fallbacks` entry (`default_fallbacks`). */
  readonly defaultFallbacks: readonly string[];
  /** Failures within a minute after which a deployment cools down (LiteLLM `allowed_fails`). */
  readonly allowedFails: number;
  /** The same by the class of the failure (`allowed_fails_policy`); absent: `allowedFails` for every class. */
  readonly allowedFailsPolicy?: AllowedFailsPolicy;
  /** How long a deployment cools down, milliseconds (LiteLLM `cooldown_time`, seconds in YAML). */
  readonly cooldownMs: number;
  /** LiteLLM's `enable_tag_filtering`: requests go to the deployments of a group that carry their tags (`routing/tag-filter.ts`). */
  readonly tagFiltering: boolean;
  /** LiteLLM's `tag_filtering_match_any: false`: a deployment must carry every tag of the request (default: any one). */
  readonly tagFilteringMatchAll?: boolean;
  /** LiteLLM's `disable_cooldowns`: failures are not counted and no deployment cools down. */
  readonly disableCooldowns: boolean;
  /** LiteLLM's `max_fallbacks`: at most this many fallback groups are tried for one request. */
  readonly maxFallbacks: number;
  /** LiteLLM's `retry_after`: the least wait before a retry, milliseconds (the backoff, or the upstream's `retry-after`, when longer). */
  readonly retryAfterMs?: number;
  /**
   * Other names for model groups (`model_group_alias`): alias -> the group it names. A hidden
   * alias works but is not listed by `/v1/models`.
   */
  readonly modelGroupAlias: Readonly<Record<string, { readonly model: string; readonly hidden: boolean }>>;
}

/** `portico_settings.files.s3`: the bucket of the `s3` blob store (AWS or S3-compatible). */
export interface S3BlobSettings {
  readonly bucket: string;
  /** Prepended to object keys, a folder (`portico/files/`); empty: the bucket's root. */
  readonly prefix: string;
  readonly region?: string;
  /** An S3-compatible store's URL; absent: AWS. */
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  /** Both or neither; neither: the AWS SDK's default credential chain. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Bytes per part of a multipart upload (at least 5 MiB). */
  readonly partBytes: number;
  /** Parts one upload sends at once. */
  readonly queueSize: number;
}

/** `portico_settings.files.azure_blob`: the container of the `azure_blob` blob store. */
export interface AzureBlobSettings {
  readonly container: string;
  readonly prefix: string;
  /** Either a connection string, or the account URL with its key or a SAS token. */
  readonly connectionString?: string;
  readonly accountUrl?: string;
  readonly accountName?: string;
  readonly accountKey?: string;
  readonly sasToken?: string;
  /** Bytes per staged block. */
  readonly blockBytes: number;
  /** Blocks one upload stages at once. */
  readonly concurrency: number;
}

export type BlobStoreKind = 'directory' | 'database' | 's3' | 'azure_blob';

export interface FilesSettings {
  /**
   * Where the gateway keeps file bytes: `directory` (a local directory, `storageDir`; several
   * instances must mount the same volume there), `database` (PostgreSQL tables: instances
   * share nothing but the database), `s3` or `azure_blob` (a bucket or container: no shared
   * volume, no bytes in the database).
   */
  readonly blobStore: BlobStoreKind;
  /** The directory of the `directory` blob store. */
  readonly storageDir: string;
  /** Present when `blobStore` is `s3`. */
  readonly s3?: S3BlobSettings;
  /** Present when `blobStore` is `azure_blob`. */
  readonly azureBlob?: AzureBlobSettings;
  readonly maxFileBytes: number;
  readonly maxBatchFileBytes: number;
  readonly maxBatchFileLines: number;
  /** Longest line of a batch input file, bytes: what validating one line may hold in memory. */
  readonly maxBatchLineBytes: number;
  /** Uploads in progress at once on this instance, all keys together (429 beyond). */
  readonly maxConcurrentUploads: number;
  /** Uploads in progress at once on this instance for one key (429 beyond). */
  readonly maxConcurrentUploadsPerKey: number;
  /** Default expiry for `purpose=batch` files, seconds; 0 = never. */
  readonly batchFileDefaultExpirySeconds: number;
  /** First wait before a failed provider delete is retried; doubles per attempt up to 10 min. */
  readonly deleteRetryBaseSeconds: number;
  /** Bytes of active files one owner may hold (uploads and batch results); absent = no limit. */
  readonly maxBytesPerOwner?: number;
  /** Active files one owner may hold; absent = no limit. */
  readonly maxFilesPerOwner?: number;
}

export interface BatchSettings {
  /** A retrieve refreshes a running batch from its provider when its state is older than this. */
  readonly refreshAfterSeconds: number;
  /** How often the background poller looks for batches due for a refresh, milliseconds. */
  readonly pollIntervalMs: number;
  /**
   * Share of each deployment's `rpm`/`tpm` the batch engine leaves free for live requests
   * (`portico_settings.batch.live_traffic_share`, default 0.2: the engine uses at most 80%).
   */
  readonly liveTrafficShare?: number;
  /**
   * How long the batch engine's lease on a line lasts without renewal, milliseconds
   * (`portico_settings.batch.lease_seconds`; the engine's default, 60 s, when absent). Running
   * lines renew it every third of it; after a crash, another instance takes the lines over
   * once it ran out.
   */
  readonly leaseMs?: number;
  /**
   * Output tokens reserved for a batch line that sets no `max_tokens` / `max_completion_tokens`
   * (`portico_settings.batch.estimated_output_tokens`, default 1000).
   */
  readonly estimatedOutputTokens: number;
  /**
   * A batch that does not fit its deployment's `batch_max_enqueued_tokens`: `refuse` (400
   * `token_limit_exceeded`, the default) or `wait` (it stays `validating` until there is room).
   */
  readonly quotaExceeded: 'refuse' | 'wait';
}

/**
 * What a client may take to send its request, and how many connections are served at once
 * (`portico_settings.server`). Responses are never timed: a long stream keeps its connection.
 */
export interface ServerSettings {
  /** `general_settings.background_health_checks`: `/health` answers the latest of checks run every `intervalMs`; absent: checked on each call. */
  readonly backgroundHealthChecks?: { readonly intervalMs: number };
  /** From a request's first byte (or a new connection's start) until its headers are complete, ms. */
  readonly headersTimeoutMs: number;
  /**
   * A request body is checked every this many ms: unless it is complete, at least one byte and
   * `bodyMinBytesPerSecond` must have arrived since the last check, or the connection is closed.
   * A window, not a deadline: a slow but steady upload of any size goes through.
   */
  readonly bodyTimeoutMs: number;
  readonly bodyMinBytesPerSecond: number;
  /** Connections served at once; the operating system's further connections are closed at once. */
  readonly maxConnections: number;
  /** `general_settings.allowed_ips`: only these clients (addresses or CIDR subnets); absent: any. */
  readonly allowedIps?: readonly string[];
  /** `general_settings.use_x_forwarded_for`: the client is the first address of `X-Forwarded-For`. */
  readonly useForwardedFor: boolean;
  /**
   * `general_settings.global_max_parallel_requests`: model requests one Portico process serves at
   * once (each of `--num_workers` counts its own, as each LiteLLM process does); absent: no cap.
   */
  readonly globalMaxParallelRequests?: number;
}

/** The database as the request path uses it (`portico_settings.database`). */
export interface DatabaseSettings {
  /**
   * A query (PostgreSQL) left without an answer this long fails as 503 `database_unavailable` and
   * its connection is dropped: a hung server or a network cut keeps TCP open, and a query sent on
   * it would wait for ever. Client-side (a server-side `statement_timeout` needs a server that
   * answers). 0: no bound. Migrations run on a connection of their own, without it.
   */
  readonly queryTimeoutMs: number;
  /** PostgreSQL: connections per pool, so per process (`general_settings.database_connection_pool_limit`); absent: 10. */
  readonly poolMax?: number;
  /** PostgreSQL: how long a query waits for a connection (`general_settings.database_connection_timeout`); absent: 10 s. */
  readonly connectionTimeoutMs?: number;
}

/**
 * The spend ledger (`general_settings.disable_spend_logs`, `maximum_spend_logs_retention_period`,
 * `maximum_spend_logs_retention_interval`, LiteLLM's names; `portico_settings.spend_logs` for the
 * group commit).
 */
export interface SpendLogSettings {
  readonly enabled: boolean;
  /** Rows older than this are deleted; absent: kept for ever. */
  readonly retentionMs?: number;
  /** How often the retention sweep runs. */
  readonly retentionIntervalMs: number;
  /** How long a row waits for company before it is written. */
  readonly flushIntervalMs: number;
  /** Queued rows above which new model requests wait for room. */
  readonly maxQueueRows: number;
}

export interface PorticoConfig {
  readonly deployments: readonly Deployment[];
  /** `general_settings.master_key`; when absent, Portico runs open (no auth) and says so at start. */
  readonly masterKey: string | undefined;
  /** `general_settings.database_url`: when set, used instead of the `DATABASE_URL` environment variable. */
  readonly databaseUrl: string | undefined;
  /**
   * Redis for state shared across instances, from `router_settings.redis_url` or
   * `redis_host`/`redis_port`/`redis_password`: when set, used instead of `REDIS_URL`.
   */
  readonly redisUrl: string | undefined;
  readonly router: RouterSettings;
  readonly files: FilesSettings;
  readonly batch: BatchSettings;
  readonly server: ServerSettings;
  readonly database: DatabaseSettings;
  readonly webhooks: WebhookSettings;
  /** `litellm_settings.callbacks` names `otel`: trace over OTLP (see `observability/tracing.ts`). */
  readonly otelCallback: boolean;
  /** `callbacks: ["prometheus"]` (or in `success_callback` / `failure_callback`): LiteLLM's metrics on `/metrics` too. */
  readonly prometheusCallback: boolean;
  /** LiteLLM's `max_end_user_budget`: USD each end user may spend; absent: no end-user budget. */
  readonly maxEndUserBudget?: number;
  /** `enable_end_user_cost_tracking_prometheus_only: true`: LiteLLM's metrics carry the request's end user (else `None`). */
  readonly prometheusEndUsers?: boolean;
  /** `litellm_settings.require_auth_for_metrics_endpoint: false`: `/metrics` without the master key. */
  readonly metricsPublic?: boolean;
  /** `callbacks: ["langfuse_otel"]` (or `langfuse`): traces also sent to Langfuse's OTLP endpoint. */
  readonly langfuseTraces?: TraceExport;
  /** `general_settings.user_header_name`, lower-cased: the header naming a request's end user (the spend row's `end_user`). */
  readonly userHeaderName?: string;
  /** `general_settings.alerting: ["slack"]` with its webhook URLs; absent: no alerts. */
  readonly slackAlerts?: SlackAlertSettings;
  /** `litellm_settings.redact_user_api_key_info`: traces carry nothing about the caller's key. */
  readonly redactKeyInfo: boolean;
  /** `general_settings.forward_client_headers_to_llm_api`: the client's `x-` headers go upstream with its requests. */
  readonly forwardClientHeaders: boolean;
  /** `litellm_settings.set_verbose: true`: `debug`, when `LOG_LEVEL` does not say; absent: `info`. */
  readonly logLevel?: 'debug';
  /** `litellm_settings.ssl_verify` (how upstream certificates are verified) and `force_ipv4`; absent: Node's defaults. */
  readonly upstreamConnection?: UpstreamConnection;
  /**
   * `litellm_settings.max_budget` (above 0) and `budget_duration`: the spend of every key together
   * that stops model requests (the master key's excepted); absent: no proxy budget.
   */
  /** `general_settings.store_model_in_db` (or LiteLLM's `STORE_MODEL_IN_DB=True`): the model management API, models kept in the database. */
  readonly storeModelsInDb?: true;
  /** `litellm_settings.extra_spend_tag_headers`: headers whose values are added to a request's spend tags as `<header>: <value>`. */
  readonly spendTagHeaders?: readonly string[];
  /** `portico_settings.stored_models_poll_seconds`, in ms. */
  readonly storedModelsPollMs?: number;
  readonly proxyBudget?: ProxyBudgetConfig;
  /** `litellm_settings.cache`: LiteLLM's response cache; absent: off. */
  readonly responseCache?: ResponseCacheConfig;
  readonly spendLogs: SpendLogSettings;
  /** `general_settings.user_api_key_cache_ttl` (ms): how long a key read from the database is served from memory. */
  readonly keyCacheTtlMs: number | undefined;
  /** `portico_settings.workers`: processes serving the port; undefined: one. */
  readonly workers: number | 'auto' | undefined;
  /** Non-fatal findings (unknown keys, ...), logged at start. */
  readonly warnings: readonly string[];
}

/** The event types Portico sends to webhooks (OpenAI's batch event names, and budget events). */
export const WEBHOOK_EVENT_TYPES = Object.freeze(['batch.completed', 'batch.failed', 'batch.expired', 'batch.cancelled', 'budget.soft_exceeded', 'budget.exceeded'] as const);
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEndpoint {
  readonly url: string;
  /** `whsec_...` (Standard Webhooks). */
  readonly secret: string;
  /** The event types sent to it. */
  readonly events: readonly WebhookEventType[];
  /** Only events whose owner is this team (`team:<id>`); null: every event. */
  readonly teamId: string | null;
  /**
   * Absent: Standard Webhooks (the signed event JSON). `slack`: a Slack incoming webhook of
   * LiteLLM's `budget_alerts` (`webhooks/slack-budget-message.ts`): the event as a Slack message,
   * unsigned (`secret` is empty).
   */
  readonly format?: 'slack';
}

/** `portico_settings.webhooks` and `portico_settings.webhook_delivery`. */
export interface WebhookSettings {
  readonly endpoints: readonly WebhookEndpoint[];
  /** First retry after this long; doubled per attempt (with jitter) up to `retryMaxMs`. */
  readonly retryFirstMs: number;
  readonly retryMaxMs: number;
  /** An event not delivered within this long of its creation is marked failed. */
  readonly giveUpAfterMs: number;
  /** One delivery attempt may take this long. */
  readonly timeoutMs: number;
  /** How often the outbox looks for due deliveries. */
  readonly pollIntervalMs: number;
}

/** `litellm_settings.cache` with its `cache_params` (`caching/response-cache.ts`). */
export interface ResponseCacheConfig {
  /** `redis`: shared by every instance; `local`: in this process. */
  readonly type: 'local' | 'redis';
  /** `cache_params.host` / `port` / `password` (or LiteLLM's REDIS_HOST, ...) as a URL; absent: the gateway's own Redis. */
  readonly redisUrl?: string;
  readonly namespace?: string;
  readonly ttlSeconds: number;
  readonly callTypes: readonly string[];
  readonly mode: 'default_on' | 'default_off';
}

/** LiteLLM's budget of the whole proxy (`litellm_settings.max_budget`, `budget_duration`). */
export interface ProxyBudgetConfig {
  /** USD; spend above it stops model requests. */
  readonly maxBudget: number;
  /** Spend counts over this window back from now (ms); absent: all the spend ledger keeps. */
  readonly windowMs?: number;
}
