/**
 * The supported subset of LiteLLM's proxy config (https://docs.litellm.ai/docs/proxy/configs),
 * plus `portico_settings`. Objects are loose: unknown keys are kept here and reported as
 * warnings by `unknown-keys.ts`, never rejected, so existing LiteLLM files load unchanged.
 * Numbers also accept numeric strings, since `os.environ/` values are strings.
 */
import { z } from 'zod';

/** A number, or a numeric string (from `os.environ/`), validated by `inner`. */
function numeric<T extends z.ZodType>(inner: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : value;
  }, inner);
}
const nonNegativeNumber = numeric(z.number().nonnegative());
const positiveNumber = numeric(z.number().positive());
const nonNegativeInt = numeric(z.number().int().nonnegative());
const positiveInt = numeric(z.number().int().positive());
/** A string; YAML numbers (`api_version: 2024-10-21` stays a string, `id: 7` does not) become strings. */
const text = z.preprocess((value) => (typeof value === 'number' ? String(value) : value), z.string());
/** One name or a list of names (LiteLLM's callback settings take either). */
const callbackNames = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(text));

export const litellmParamsSchema = z.looseObject({
  model: z.string().min(1, 'must not be empty'),
  api_base: z.string().nullish(),
  api_key: z.string().nullish(),
  api_version: text.nullish(),
  custom_llm_provider: z.string().nullish(),
  rpm: nonNegativeInt.nullish(),
  tpm: nonNegativeInt.nullish(),
  /** The requests it serves under `router_settings.enable_tag_filtering` (`Deployment.tags`). */
  tags: z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(text)).nullish(),
  /** Live requests one process has open on this deployment at once (`Deployment.maxParallelRequests`). */
  max_parallel_requests: positiveInt.nullish(),
  /** Seconds. */
  timeout: positiveNumber.nullish(),
  /** Seconds: streamed requests' timeout (default `timeout`). */
  stream_timeout: positiveNumber.nullish(),
  max_retries: nonNegativeInt.nullish(),
  /** LiteLLM takes `num_retries` here too (passed to its completion call): read as `max_retries` where that is not given. */
  num_retries: nonNegativeInt.nullish(),
  weight: positiveNumber.nullish(),
  /** Seconds this deployment cools down after `allowed_fails` failures (`Deployment.cooldownMs`). */
  cooldown_time: nonNegativeNumber.nullish(),
  /** Priority within the group: lower first (`Deployment.order`). */
  order: numeric(z.number().int()).nullish(),
  batch_mode: z.enum(['native', 'emulate']).nullish(),
  /** Lines of emulated batches this deployment runs at once, per Portico instance. */
  batch_concurrency: positiveInt.nullish(),
  /** Estimated input tokens of this deployment's batches not yet ended, at most (Azure's enqueued-token quota). */
  batch_max_enqueued_tokens: positiveInt.nullish(),
  input_cost_per_token: nonNegativeNumber.nullish(),
  output_cost_per_token: nonNegativeNumber.nullish(),
  input_cost_per_token_batches: nonNegativeNumber.nullish(),
  output_cost_per_token_batches: nonNegativeNumber.nullish(),
  cache_read_input_token_cost: nonNegativeNumber.nullish(),
  /** USD per search of a rerank model (`UpstreamJsonResponse.billedQueries`). */
  input_cost_per_query: nonNegativeNumber.nullish(),
  /** USD per second of transcribed audio (whisper-1). */
  input_cost_per_second: nonNegativeNumber.nullish(),
  /** USD per character of text spoken (tts-1). */
  input_cost_per_character: nonNegativeNumber.nullish(),
  /** A `credential_list` entry whose values fill in what these params leave out. */
  litellm_credential_name: text.nullish(),
  /**
   * Drop the OpenAI parameters this deployment's provider cannot take (LiteLLM `drop_params`). A
   * list of names (`drop_params: ["temperature"]`, seen in real configs) means
   * `additional_drop_params`, and is read as that with a warning (`build-deployments.ts`).
   */
  drop_params: z.union([z.boolean(), z.array(z.string())]).nullish(),
  /** Parameters always removed from requests to this deployment. */
  additional_drop_params: z.array(z.string()).nullish(),
  /** Let the provider fix up a conversation it would refuse (LiteLLM `modify_params`). */
  modify_params: z.boolean().nullish(),
  // Request defaults (`request-defaults.ts`): used when the request does not set them.
  temperature: numeric(z.number().min(0).max(2)).nullish(),
  top_p: numeric(z.number().min(0).max(1)).nullish(),
  seed: numeric(z.number().int()).nullish(),
  max_tokens: positiveInt.nullish(),
  max_completion_tokens: positiveInt.nullish(),
  /** OpenAI's `reasoning_effort` (`low`, `medium`, `high`, ...), translated by providers that take another form. */
  reasoning_effort: text.nullish(),
  /** Anthropic's `thinking` (`{type: enabled, budget_tokens}`), taken by the Claude and Gemini translations. */
  thinking: z.record(z.string(), z.unknown()).nullish(),
  /**
   * Body fields sent with every request to this deployment (LiteLLM hands `extra_body` to the
   * OpenAI client, which merges it into the body: an Ollama server's `options`, vLLM's
   * `chat_template_kwargs`); request defaults, field by field.
   */
  extra_body: z.record(z.string(), z.unknown()).nullish(),
  /** Headers sent with every request to this deployment (e.g. `anthropic-beta`, `HTTP-Referer`). */
  extra_headers: z.record(z.string(), text).nullish(),
});

/** `litellm_params` keys that are chat request defaults (a request setting one wins). */
export const REQUEST_DEFAULT_KEYS = ['temperature', 'top_p', 'seed', 'max_tokens', 'max_completion_tokens', 'reasoning_effort', 'thinking'] as const;

export const modelInfoSchema = z.looseObject({
  id: text.pipe(z.string().min(1, 'must not be empty')).nullish(),
  /** LiteLLM's access groups: a key's `models` may name one, for every model group in it. */
  access_groups: z.array(text.pipe(z.string().min(1, 'must not be empty'))).nullish(),
  /** LiteLLM's routing reads a deployment's limits here too, when `litellm_params` has none. */
  rpm: nonNegativeInt.nullish(),
  tpm: nonNegativeInt.nullish(),
  input_cost_per_token: nonNegativeNumber.nullish(),
  output_cost_per_token: nonNegativeNumber.nullish(),
  input_cost_per_token_batches: nonNegativeNumber.nullish(),
  output_cost_per_token_batches: nonNegativeNumber.nullish(),
  cache_read_input_token_cost: nonNegativeNumber.nullish(),
  input_cost_per_query: nonNegativeNumber.nullish(),
  input_cost_per_second: nonNegativeNumber.nullish(),
  input_cost_per_character: nonNegativeNumber.nullish(),
});

/** Informational `model_info` keys LiteLLM documents; accepted without a warning. */
export const DESCRIPTIVE_MODEL_INFO_KEYS: ReadonlySet<string> = new Set([
  'mode',
  'base_model',
  'max_tokens',
  'max_input_tokens',
  'max_output_tokens',
  'description',
  'db_model',
  'team_id',
  'output_vector_size',
  'litellm_provider',
]);

export const modelEntrySchema = z.looseObject({
  model_name: text.pipe(z.string().min(1, 'must not be empty')),
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.nullish(),
});

/** `[{gpt-4o: [gpt-4o-mini]}, ...]`; the one mapping without its list (`{gpt-4o: [gpt-4o-mini]}`, seen in real configs) is read as that list, with a warning. */
const fallbackTargets = z.union([z.array(z.string()), z.string().transform((target) => [target])]);
const fallbacksSchema = z.union([z.array(z.record(z.string(), fallbackTargets)), z.record(z.string(), fallbackTargets)]);

/**
 * A master key that is empty or only blanks (`master_key: ""`, `master_key:`, or
 * `os.environ/X` with `X` empty) is refused: a blank secret must not silently open the gateway.
 * Open mode is only for a config that has no `master_key` at all.
 */
const masterKey = z.preprocess(
  (value) => (value === null ? '' : value),
  text.pipe(z.string().refine((key) => key.trim().length > 0, 'must not be empty or blank (leave master_key out to run open, without auth)')),
);

export const generalSettingsSchema = z.looseObject({
  /** Run the `/health` check on a timer and answer its latest results (`server/background-health.ts`). */
  background_health_checks: z.boolean().nullish(),
  /** Seconds between background health checks (LiteLLM's default 300). */
  health_check_interval: positiveNumber.nullish(),
  /** Send the client's `x-` headers (and `anthropic-beta`) with the upstream calls of its requests (`providers/http/client-headers.ts`). */
  forward_client_headers_to_llm_api: z.boolean().nullish(),
  /** LiteLLM's JSON logs switch: Portico's logs are JSON lines either way (`false` is warned about). */
  json_logs: z.boolean().nullish(),
  master_key: masterKey.optional(),
  /** Models may be added, changed and deleted through the API (`/model/new`, ...), kept in the database (`routing/stored-models.ts`). */
  store_model_in_db: z.boolean().nullish(),
  /** LiteLLM's database setting; when given it takes the place of `DATABASE_URL`, as in LiteLLM. */
  database_url: text.nullish(),
  /** PostgreSQL connections per Portico process (LiteLLM's default 10); at least 2. */
  database_connection_pool_limit: positiveInt.nullish(),
  /** Seconds a query waits for a PostgreSQL connection before it fails (503). */
  database_connection_timeout: positiveNumber.nullish(),
  /** LiteLLM's switch for the spend ledger. */
  disable_spend_logs: z.boolean().nullish(),
  /** LiteLLM's retention of spend rows: a duration such as `30d`. */
  maximum_spend_logs_retention_period: text.nullish(),
  /** How often the retention sweep runs (`1d`). */
  maximum_spend_logs_retention_interval: text.nullish(),
  /** LiteLLM's key cache lifetime (seconds): how soon a key's spend, budget or deletion is seen. */
  user_api_key_cache_ttl: positiveNumber.nullish(),
  /** The request header naming the end user (LiteLLM's; Open WebUI sends `X-OpenWebUI-User-Email`): the spend row's `end_user`. */
  user_header_name: text.nullish(),
  /**
   * LiteLLM's newer form (its Open WebUI tutorial): headers mapped to roles. The `customer` one is
   * the end-user header, as `user_header_name` (which wins); the others are warned about.
   */
  user_header_mappings: z.array(z.looseObject({ header_name: text.pipe(z.string().min(1)), litellm_user_role: text.pipe(z.string().min(1)) })).nullish(),
  /** LiteLLM's alerting integrations; Portico sends `slack` (`observability/slack-alerts.ts`). */
  alerting: callbackNames.nullish(),
  /** Seconds above which a request is `llm_too_slow` (LiteLLM's default 300). */
  alerting_threshold: positiveNumber.nullish(),
  /** The alert types sent; absent: all Portico sends. */
  alert_types: z.array(text).nullish(),
  /** Webhook URL(s) by alert type, in place of `SLACK_WEBHOOK_URL` for that type. */
  alert_to_webhook_url: z.record(z.string(), z.union([text, z.array(text)])).nullish(),
  /** LiteLLM's alerting client's tuning: read for its `alert_ttl`-like repeat interval only. */
  alerting_args: z.looseObject({}).nullish(),
  /** LiteLLM's client allowlist (`auth/ip-allowlist.ts`): addresses, or subnets in CIDR form. */
  allowed_ips: z.array(text).nullish(),
  /** The client address is the first of `X-Forwarded-For` (a gateway behind a proxy), for `allowed_ips`. */
  use_x_forwarded_for: z.boolean().nullish(),
  /** LiteLLM's cap on the model requests one gateway process serves at once (`server/process-parallel-limit.ts`). */
  global_max_parallel_requests: positiveInt.nullish(),
});

/** Retries by the class of the error (`routing/retry-policy.ts`), LiteLLM's names. */
const retryPolicySchema = z.looseObject({
  BadRequestErrorRetries: nonNegativeInt.nullish(),
  AuthenticationErrorRetries: nonNegativeInt.nullish(),
  TimeoutErrorRetries: nonNegativeInt.nullish(),
  RateLimitErrorRetries: nonNegativeInt.nullish(),
  ContentPolicyViolationErrorRetries: nonNegativeInt.nullish(),
  InternalServerErrorRetries: nonNegativeInt.nullish(),
});

export const routerSettingsSchema = z.looseObject({
  num_retries: nonNegativeInt.nullish(),
  /** Seconds. */
  timeout: positiveNumber.nullish(),
  routing_strategy: z.string().nullish(),
  retry_policy: retryPolicySchema.nullish(),
  /** `retry_policy` for one model group, in its place there (`RouterSettings.modelGroupRetryPolicy`). */
  model_group_retry_policy: z.record(z.string(), retryPolicySchema).nullish(),
  /** Allowed failures by the class of the error (`routing/retry-policy.ts`, `AllowedFailsPolicy`). */
  allowed_fails_policy: z
    .looseObject({
      BadRequestErrorAllowedFails: nonNegativeInt.nullish(),
      AuthenticationErrorAllowedFails: nonNegativeInt.nullish(),
      TimeoutErrorAllowedFails: nonNegativeInt.nullish(),
      RateLimitErrorAllowedFails: nonNegativeInt.nullish(),
      ContentPolicyViolationErrorAllowedFails: nonNegativeInt.nullish(),
      InternalServerErrorAllowedFails: nonNegativeInt.nullish(),
    })
    .nullish(),
  /** Pick among a group's deployments only those whose context window holds the prompt (`RouterSettings.preCallChecks`). */
  enable_pre_call_checks: z.boolean().nullish(),
  fallbacks: fallbacksSchema.nullish(),
  context_window_fallbacks: fallbacksSchema.nullish(),
  content_policy_fallbacks: fallbacksSchema.nullish(),
  default_fallbacks: z.array(z.string()).nullish(),
  allowed_fails: nonNegativeInt.nullish(),
  /** Seconds. */
  cooldown_time: nonNegativeNumber.nullish(),
  /** No deployment cools down, whatever fails (`RouterSettings.disableCooldowns`). */
  disable_cooldowns: z.boolean().nullish(),
  /** Seconds: the least wait before a retry (`RouterSettings.retryAfterMs`). */
  retry_after: nonNegativeNumber.nullish(),
  /** Fallback groups tried at most, after the group's own deployments (LiteLLM's default 5). */
  max_fallbacks: nonNegativeInt.nullish(),
  /** Tag-based routing: a request goes to the deployments that carry its tags (`routing/tag-filter.ts`). */
  enable_tag_filtering: z.boolean().nullish(),
  /** `false`: a deployment serves a tagged request only if it carries every one of its tags (default: any one). */
  tag_filtering_match_any: z.boolean().nullish(),
  /** `max_parallel_requests` of deployments without their own. */
  default_max_parallel_requests: positiveInt.nullish(),
  /** Seconds: the timeout of streamed requests on deployments without their own `stream_timeout`. */
  stream_timeout: positiveNumber.nullish(),
  /** LiteLLM's Redis for state shared across instances (rpm/tpm, cooldowns): a URL, or host/port/password. */
  redis_url: text.nullish(),
  redis_host: text.nullish(),
  redis_port: text.nullish(),
  redis_password: text.nullish(),
  /**
   * Other names for model groups: `{alias: group}` or `{alias: {model: group, hidden: true}}`; a
   * list of groups (seen in real configs) is read as its first, with a warning (`load-config.ts`).
   */
  model_group_alias: z
    .record(
      z.string(),
      z.union([
        z.string().min(1, 'must name a model group'),
        z.array(z.string().min(1, 'must name a model group')).min(1, 'must name a model group'),
        z.looseObject({ model: z.string().min(1, 'must name a model group'), hidden: z.boolean().nullish() }),
      ]),
    )
    .nullish(),
});

export const litellmSettingsSchema = z.looseObject({
  /** Request headers whose values become spend tags (`<header>: <value>`), as LiteLLM's Open WebUI setups use them. */
  extra_spend_tag_headers: z.array(text.pipe(z.string().min(1, 'must name a header'))).nullish(),
  /** LiteLLM's usage telemetry switch: Portico sends no telemetry, so either value holds. */
  telemetry: z.boolean().nullish(),
  /** Keep prompts and answers out of logs and traces: Portico never puts them there (`false` is warned about). */
  turn_off_message_logging: z.boolean().nullish(),
  /** Leave the caller's key (`portico.key_id`) out of trace spans. */
  redact_user_api_key_info: z.boolean().nullish(),
  /** USD each end user (a request's `user`, or LiteLLM's end-user headers) may spend, all time (`server/end-user-budgets.ts`). */
  max_end_user_budget: nonNegativeNumber.nullish(),
  /** LiteLLM's switch for the `end_user` label of its Prometheus metrics (off: `None`, fewer series). */
  enable_end_user_cost_tracking_prometheus_only: z.boolean().nullish(),
  /** `false`: `GET /metrics` without the master key (as `PORTICO_METRICS_PUBLIC=1`); otherwise it takes the master key. */
  require_auth_for_metrics_endpoint: z.boolean().nullish(),
  /** LiteLLM's debug logging: the log level becomes `debug` unless `LOG_LEVEL` says otherwise. */
  set_verbose: z.boolean().nullish(),
  /** As `general_settings.json_logs`. */
  json_logs: z.boolean().nullish(),
  /** Verify upstream TLS certificates (`true`, the default), not at all (`false`), or against a CA bundle file (a path). */
  ssl_verify: z.union([z.boolean(), text]).nullish(),
  /** Connect to upstreams over IPv4 only. */
  force_ipv4: z.boolean().nullish(),
  /** LiteLLM's budget of the whole proxy, in USD (`server/proxy-budget.ts`); checked only above 0, as in LiteLLM. */
  max_budget: nonNegativeNumber.nullish(),
  /** The window `max_budget` counts spend over (`30d`, `1mo`, ...); absent: all spend the ledger keeps. */
  budget_duration: text.nullish(),
  num_retries: nonNegativeInt.nullish(),
  /** Seconds. */
  request_timeout: positiveNumber.nullish(),
  fallbacks: fallbacksSchema.nullish(),
  context_window_fallbacks: fallbacksSchema.nullish(),
  content_policy_fallbacks: fallbacksSchema.nullish(),
  default_fallbacks: z.array(z.string()).nullish(),
  allowed_fails: nonNegativeInt.nullish(),
  cooldown_time: nonNegativeNumber.nullish(),
  /** Drop the OpenAI parameters a deployment's provider cannot take, on every deployment. */
  /** As in an entry: a list of names is read as every deployment's `additional_drop_params`, with a warning. */
  drop_params: z.union([z.boolean(), z.array(z.string())]).nullish(),
  /** Let providers fix up conversations they would refuse, on every deployment (LiteLLM `modify_params`). */
  modify_params: z.boolean().nullish(),
  /**
   * LiteLLM's logging integrations; Portico knows `otel` (OpenTelemetry traces over OTLP). LiteLLM
   * takes a list or one name (`callbacks: custom_callbacks.proxy_handler_instance`, its custom
   * callback class); read as a list either way.
   */
  callbacks: callbackNames.nullish(),
  /** LiteLLM's integrations called on successful or failed calls only: read like `callbacks`. */
  success_callback: callbackNames.nullish(),
  failure_callback: callbackNames.nullish(),
  /** LiteLLM's response cache (`caching/response-cache.ts`), configured by `cache_params`. */
  cache: z.boolean().nullish(),
  cache_params: z
    .looseObject({
      type: z.string().nullish(),
      host: text.nullish(),
      port: text.nullish(),
      password: text.nullish(),
      namespace: text.nullish(),
      /** Seconds an answer is kept. */
      ttl: positiveNumber.nullish(),
      supported_call_types: z.array(z.string()).nullish(),
      mode: z.enum(['default_on', 'default_off']).nullish(),
    })
    .nullish(),
});

export const BLOB_STORES = ['directory', 'database', 's3', 'azure_blob'] as const;

const MiB = 1024 * 1024;

/** The `s3` blob store's bucket: AWS S3 or any S3-compatible store. */
export const s3BlobSettingsSchema = z.looseObject({
  bucket: z.string().min(1),
  prefix: z.string().nullish(),
  region: text.nullish(),
  /** An S3-compatible store's URL (MinIO, R2, ...); absent: AWS. */
  endpoint: z.url({ protocol: /^https?$/ }).nullish(),
  force_path_style: z.boolean().nullish(),
  access_key_id: text.nullish(),
  secret_access_key: text.nullish(),
  /** Bytes per multipart part; S3 refuses parts under 5 MiB. */
  part_bytes: numeric(z.number().int().min(5 * MiB)).nullish(),
  queue_size: positiveInt.nullish(),
});

/** The `azure_blob` blob store's container. */
export const azureBlobSettingsSchema = z.looseObject({
  container: z.string().min(1),
  prefix: z.string().nullish(),
  connection_string: text.nullish(),
  account_url: z.url({ protocol: /^https?$/ }).nullish(),
  /** Read from `account_url` when absent (`https://<account>.blob.core.windows.net`). */
  account_name: text.nullish(),
  account_key: text.nullish(),
  sas_token: text.nullish(),
  block_bytes: positiveInt.nullish(),
  concurrency: positiveInt.nullish(),
});

export const filesSettingsSchema = z.looseObject({
  /** Where file bytes live: `directory` (`storage_dir`), `database` (PostgreSQL), `s3` (`s3:`) or `azure_blob` (`azure_blob:`). */
  blob_store: z.enum(BLOB_STORES).nullish(),
  storage_dir: z.string().min(1).nullish(),
  s3: s3BlobSettingsSchema.nullish(),
  azure_blob: azureBlobSettingsSchema.nullish(),
  max_file_bytes: positiveInt.nullish(),
  max_batch_file_bytes: positiveInt.nullish(),
  max_batch_file_lines: positiveInt.nullish(),
  max_batch_line_bytes: positiveInt.nullish(),
  max_concurrent_uploads: positiveInt.nullish(),
  max_concurrent_uploads_per_key: positiveInt.nullish(),
  batch_file_default_expiry_seconds: nonNegativeInt.nullish(),
  /** First wait before a failed provider delete is retried; doubles per attempt up to 10 min. */
  delete_retry_base_seconds: nonNegativeNumber.nullish(),
  /** Per-owner quotas of stored files (bytes, count); absent = none. */
  max_bytes_per_owner: positiveInt.nullish(),
  max_files_per_owner: positiveInt.nullish(),
});

export const batchSettingsSchema = z.looseObject({
  /** A retrieve refreshes a running batch from its provider when its state is older than this. */
  refresh_after_seconds: nonNegativeNumber.nullish(),
  /** How often the background poller looks for batches due for a refresh. */
  poll_interval_ms: positiveInt.nullish(),
  /** Share of each deployment's rpm/tpm the batch engine leaves free for live requests (0..1). */
  live_traffic_share: numeric(z.number().min(0).lt(1)).nullish(),
  /** How long a batch line leased by an instance stays its own without renewal (crash takeover time). */
  lease_seconds: positiveNumber.nullish(),
  /** Output tokens a batch line is reserved for when it sets no `max_tokens` / `max_completion_tokens`. */
  estimated_output_tokens: nonNegativeInt.nullish(),
  /** A batch over its deployment's `batch_max_enqueued_tokens`: refused (400), or waits for room. */
  quota_exceeded: z.enum(['refuse', 'wait']).nullish(),
});

/** How long clients may take to send a request, and how many connections are served at once. */
export const serverSettingsSchema = z.looseObject({
  /** Seconds from a request's first byte (or a new connection) until its headers are complete. */
  headers_timeout_seconds: positiveNumber.nullish(),
  /** A request body must progress within every such window (and by `body_min_bytes_per_second`). */
  body_timeout_seconds: positiveNumber.nullish(),
  body_min_bytes_per_second: nonNegativeNumber.nullish(),
  /** Connections served at once; more are refused. */
  max_connections: positiveInt.nullish(),
});

/** Bounds on the database as the request path uses it. */
export const databaseSettingsSchema = z.looseObject({
  /** A query without an answer after this long fails (503); 0: no bound. Migrations are never cut. */
  query_timeout_seconds: nonNegativeNumber.nullish(),
});

/** A webhook receiver (issue 12): where events go, the Standard Webhooks secret, which events. */
export const webhookEndpointSchema = z.looseObject({
  url: text,
  /** `whsec_` + base64, as the openai SDK's `webhooks.unwrap` and `standardwebhooks` expect. */
  secret: text,
  /** Event types wanted; absent: all of them. */
  events: z.array(text).nullish(),
  /** Only events about this team's batches and budgets (owner `team:<team_id>`); absent: every event. */
  team_id: text.nullish(),
});

/** How the outbox delivers: retries with exponential backoff until delivered or given up. */
export const webhookDeliverySchema = z.looseObject({
  retry_first_seconds: positiveNumber.nullish(),
  retry_max_seconds: positiveNumber.nullish(),
  give_up_after_hours: positiveNumber.nullish(),
  timeout_seconds: positiveNumber.nullish(),
  poll_interval_ms: positiveInt.nullish(),
});

/** The spend ledger's group commit. */
export const spendLogSettingsSchema = z.looseObject({
  flush_interval_ms: positiveInt.nullish(),
  max_queue_rows: positiveInt.nullish(),
});

export const porticoSettingsSchema = z.looseObject({
  spend_logs: spendLogSettingsSchema.nullish(),
  /** Refuse entries Portico cannot serve (a provider it lacks) instead of skipping them with a warning. */
  strict_config: z.boolean().nullish(),
  files: filesSettingsSchema.nullish(),
  batch: batchSettingsSchema.nullish(),
  server: serverSettingsSchema.nullish(),
  database: databaseSettingsSchema.nullish(),
  webhooks: z.array(webhookEndpointSchema).nullish(),
  /** Processes serving the port (`auto`: the CPUs available); more than one needs Redis. */
  workers: z.union([z.literal('auto'), numeric(z.number().int().min(1).max(256))]).nullish(),
  webhook_delivery: webhookDeliverySchema.nullish(),
  /** With `store_model_in_db`: seconds between each instance's checks for models changed elsewhere (default 10). */
  stored_models_poll_seconds: positiveNumber.nullish(),
});

/** LiteLLM's named credentials, referenced by `litellm_params.litellm_credential_name`. */
export const credentialSchema = z.looseObject({
  credential_name: text.pipe(z.string().min(1, 'must not be empty')),
  credential_values: z.record(z.string(), z.unknown()),
  /** Descriptive (`description`, `custom_llm_provider`, ...): not used. */
  credential_info: z.record(z.string(), z.unknown()).nullish(),
});

export const configFileSchema = z.looseObject({
  /** Entries are validated one by one (`modelEntrySchema`), so every bad entry is reported. */
  model_list: z.array(z.unknown()).nullish(),
  general_settings: generalSettingsSchema.nullish(),
  router_settings: routerSettingsSchema.nullish(),
  litellm_settings: litellmSettingsSchema.nullish(),
  portico_settings: porticoSettingsSchema.nullish(),
  /** LiteLLM sets these as environment variables; Portico uses them for `os.environ/` lookups. */
  environment_variables: z.record(z.string(), text).nullish(),
  credential_list: z.array(credentialSchema).nullish(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type LitellmParams = z.infer<typeof litellmParamsSchema>;
