/**
 * Row types of every table, as Kysely sees them (snake_case, exactly the columns the migrations
 * create). Stores map these rows to camelCase domain records; nothing outside `storage/` should
 * need this file.
 *
 * Conventions (both dialects):
 * - JSON is stored as text and parsed by the stores.
 * - Booleans are integers 0/1.
 * - OpenAI-visible timestamps (`created_at`, `expires_at`, `*_at` of a batch) are integer unix
 *   seconds (`bigint`).
 * - Scheduling columns (`next_sync_at`, `last_synced_at`, `lease_expires_at`, `next_attempt_at`)
 *   are unix seconds too, but `double precision`, so that leases and retry backoffs can be
 *   shorter than a second.
 */
import type { Generated } from 'kysely';

export interface ApiKeysTable {
  id: string;
  key_hash: string;
  key_alias: string | null;
  user_id: string | null;
  team_id: string | null;
  /** JSON array of model group names; `[]` = every model. */
  models: Generated<string>;
  /** JSON object. */
  metadata: Generated<string>;
  spend: Generated<number>;
  created_at: number;
  expires_at: number | null;
  blocked: Generated<number>;
  /** Requests per minute (LiteLLM `rpm_limit`); null = none. Migration 0004. */
  rpm_limit: number | null;
  /** Tokens per minute (LiteLLM `tpm_limit`); null = none. Migration 0004. */
  tpm_limit: number | null;
  /** LiteLLM `max_budget` / `soft_budget` (USD), `budget_duration`; when the spend resets. Migration 0012. */
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: number | null;
  /** LiteLLM `max_parallel_requests`; JSON `model_max_budget`. Migration 0014. */
  max_parallel_requests: number | null;
  model_max_budget: string | null;
  /** Estimated cost of this key's batches not yet ended (`batch_holds`). Migration 0015. */
  reserved_spend: Generated<number>;
}

/** The budget columns teams and users share with keys (migration 0014). */
export interface BudgetSubjectColumns {
  /** JSON array of model group names; `[]` = every model. */
  models: Generated<string>;
  /** JSON object. */
  metadata: Generated<string>;
  spend: Generated<number>;
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: number | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  /** JSON object: model group -> `{budget_limit, time_period}`. */
  model_max_budget: string | null;
  /** Estimated cost of batches not yet ended (`batch_holds`). Migration 0015. */
  reserved_spend: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** LiteLLM's teams (`/team/new`). Migration 0014. */
export interface TeamsTable extends BudgetSubjectColumns {
  team_id: string;
  team_alias: string | null;
  /** JSON array of `{user_id, user_email, role}`. */
  members_with_roles: Generated<string>;
  blocked: Generated<number>;
}

/** LiteLLM's internal users (`/user/new`). Migration 0014. */
export interface UsersTable extends BudgetSubjectColumns {
  user_id: string;
  user_email: string | null;
  user_alias: string | null;
  user_role: Generated<string>;
  /** JSON array of team ids. */
  teams: Generated<string>;
}

export interface FilesTable {
  id: string;
  owner: string;
  purpose: string;
  filename: string;
  bytes: number;
  created_at: number;
  expires_at: number | null;
  status: string;
  status_details: string | null;
  checksum: string | null;
  blob_key: string | null;
  line_count: number | null;
  batch_endpoint: string | null;
  /** JSON array of model group names, or null. */
  model_groups: string | null;
  /** JSON array of the model groups the lines name (`body.model`), or null. Migration 0006. */
  line_models: string | null;
  /** JSON of the lines' token estimate (`TokenEstimateParts`), or null. Migration 0016. */
  token_estimate: string | null;
  batch_id: string | null;
  state: Generated<string>;
  deleted_at: number | null;
}

export interface FileCopiesTable {
  id: string;
  file_id: string;
  deployment_id: string;
  provider_file_id: string | null;
  state: string;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  /** While `uploading`: until when the uploader holds the copy (migration 0007); else null. */
  lease_expires_at: number | null;
}

export interface BatchesTable {
  id: string;
  owner: string;
  key_id: string | null;
  endpoint: string;
  completion_window: string;
  model_group: string;
  deployment_id: string | null;
  execution: string;
  provider_batch_id: string | null;
  /** JSON array, one entry (text or null) per provider batch id: what each staged part keeps between looks (migration 0017). */
  part_states: string | null;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  provider_output_file_id: string | null;
  provider_error_file_id: string | null;
  status: string;
  raw_status: string | null;
  /** JSON array of BatchErrorItem, or null. */
  errors: string | null;
  /** JSON object of strings, or null. */
  metadata: string | null;
  output_expires_after_seconds: number | null;
  request_total: Generated<number>;
  request_completed: Generated<number>;
  request_failed: Generated<number>;
  /** JSON BatchUsage, or null. */
  usage: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  last_synced_at: number | null;
  next_sync_at: number | null;
  sync_failures: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: number | null;
  cost: number | null;
  cost_recorded_at: number | null;
  /** 1 while the row records an intent to create a provider batch not yet confirmed (migration 0008). */
  creating: Generated<number>;
  /** 1 while the batch waits for room in its deployment's enqueued-token quota (migration 0015). */
  waiting_for_quota: Generated<number>;
}

/**
 * What a batch not yet ended reserved (migration 0015): its estimated cost, added to the
 * `reserved_spend` of its key, user and team, and its estimated input tokens on its deployment.
 * `state`: `held` (counted in the deployment's enqueued tokens) or `waiting` (for room in them).
 */
export interface BatchHoldsTable {
  batch_id: string;
  key_id: string | null;
  user_id: string | null;
  team_id: string | null;
  deployment_id: string;
  reserved_cost: number;
  input_tokens: number;
  output_tokens: number;
  state: string;
  created_at: number;
}

export interface BatchItemsTable {
  batch_id: string;
  line_index: number;
  custom_id: string;
  /** The input line, JSON text. */
  request: string;
  state: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** The output or error line, JSON text, or null. */
  result: string | null;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cached_tokens: Generated<number>;
  finished_at: number | null;
}

/** A blob of `DatabaseBlobStore` (migration 0005); its bytes are in `blob_chunks`. */
export interface BlobsTable {
  key: string;
  bytes: number;
  /** Hex sha256 of the bytes; '' while the blob is being written. */
  sha256: string;
  created_at: number;
  /** Null while the blob is being written; readers see only completed blobs. */
  completed_at: number | null;
}

/** LiteLLM's customers (`/customer/new`): end users with a block switch and a budget of their own. Migration 0021. */
export interface EndUsersTable {
  user_id: string;
  alias: string | null;
  blocked: Generated<number>;
  max_budget: number | null;
  budget_duration: string | null;
  /** JSON object. */
  metadata: Generated<string>;
  created_at: number;
  updated_at: number;
}

/** Models added through the API (`/model/new`); `litellm_params` sealed (`stored-model-cipher.ts`). Migration 0022. */
export interface StoredModelsTable {
  model_id: string;
  model_name: string;
  litellm_params: string;
  /** JSON object. */
  model_info: Generated<string>;
  created_by: string | null;
  /** Milliseconds. */
  created_at: number;
  updated_at: number;
}

/** Responses answered through a provider's chat, kept by the gateway (migration 0024). */
export interface StoredResponsesTable {
  id: string;
  owner: string;
  previous_response_id: string | null;
  /** JSON: the Response object. */
  response: string;
  /** JSON: the request's input, as items. */
  input_items: string;
  created_at: number;
}

/** OpenAI's Uploads API (migration 0023): a file sent in parts. */
export interface UploadsTable {
  id: string;
  owner: string;
  filename: string;
  purpose: string;
  /** The size the client declared. */
  bytes: number;
  mime_type: string;
  /** `pending`, `completed`, `cancelled`, `expired`. */
  status: string;
  created_at: number;
  expires_at: number;
  file_expires_after: number | null;
  file_id: string | null;
}

export interface UploadPartsTable {
  id: string;
  upload_id: string;
  blob_key: string;
  bytes: number;
  /** Seconds, to the millisecond. */
  created_at: number;
}

/** One piece of a blob's bytes; a blob's chunks in `seq` order (0, 1, ...) are its bytes. */
export interface BlobChunksTable {
  blob_key: string;
  seq: number;
  /** bytea on PostgreSQL (read as Buffer), BLOB on SQLite (read as Uint8Array). */
  data: Uint8Array;
}

export interface DatabaseSchema {
  api_keys: ApiKeysTable;
  teams: TeamsTable;
  users: UsersTable;
  end_users: EndUsersTable;
  stored_models: StoredModelsTable;
  files: FilesTable;
  uploads: UploadsTable;
  upload_parts: UploadPartsTable;
  stored_responses: StoredResponsesTable;
  file_copies: FileCopiesTable;
  batches: BatchesTable;
  batch_items: BatchItemsTable;
  batch_holds: BatchHoldsTable;
  blobs: BlobsTable;
  blob_chunks: BlobChunksTable;
  spend_logs: SpendLogsTable;
  job_leases: JobLeasesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  console_sessions: ConsoleSessionsTable;
}

/** The spend ledger (migration 0009): one row per live request, one per batch. */
export interface SpendLogsTable {
  id: string;
  request_id: string;
  /** The endpoint path without `/v1` (`/chat/completions`), or `batch`. */
  call_type: string;
  key_id: string | null;
  user_id: string | null;
  team_id: string | null;
  model_group: string;
  deployment_id: string | null;
  provider: string | null;
  model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  spend: number;
  /** `success` or `failure`. */
  status: string;
  latency_ms: number;
  started_at: number;
  ended_at: number;
  batch_id: string | null;
  /** 1 for a live request; a batch's lines. */
  request_count: number;
  /** JSON array of the row's tags (migration 0018); null: none. */
  request_tags: string | null;
  /** Who the request was for, as the client named them (migration 0019); null: nobody. */
  end_user: string | null;
}

/** Named leases of singleton background jobs (migration 0009). */
export interface JobLeasesTable {
  name: string;
  owner: string;
  expires_at: number;
}


/** One event for one endpoint in the webhook outbox (migration 0011); times in Unix seconds. */
export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_url: string;
  payload: string;
  created_at: number;
  /** pending, delivered, failed (given up). */
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  finished_at: number | null;
}

/** One delivery attempt of a webhook (migration 0011). */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** A web console session (migration 0013); times in Unix seconds. */
export interface ConsoleSessionsTable {
  /** SHA-256 (hex) of the session token the browser holds. */
  id: string;
  /** A virtual key's session: the key's `api_keys.key_hash`; null for a master key session. */
  key_hash: string | null;
  /** A master key session: HMAC-SHA256 of the master key, keyed by the session token (hex). */
  master_binding: string | null;
  created_at: number;
  expires_at: number;
}
