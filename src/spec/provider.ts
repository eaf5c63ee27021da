/**
 * The typed interface every provider implements. Core code (routing, managed, server, jobs)
 * sees providers only through these types and `providers/registry.ts`; it never imports a
 * provider folder and never branches on a provider's name.
 */
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { AudioUpload, UpstreamAudioResponse } from './audio.ts';
import type { AnthropicMessagesRequest } from './anthropic-messages.ts';
import type { BatchErrorItem, BatchInputLine, BatchOutputLine, BatchRequestCounts, BatchStatus, BatchUsage, OpenAIFileStatus } from './openai-objects.ts';

/** Per-token prices of a deployment, LiteLLM's `model_info` names. */
export interface DeploymentPricing {
  inputCostPerToken?: number;
  outputCostPerToken?: number;
  /** Batch prices; when absent, half the normal per-token price. */
  inputCostPerTokenBatches?: number;
  outputCostPerTokenBatches?: number;
  /** Price of a prompt token read from the provider's cache (`cache_read_input_token_cost`); absent: the input price. */
  cacheReadInputTokenCost?: number;
  /** Price of one search a rerank answer is billed as (`input_cost_per_query`; `UpstreamJsonResponse.billedQueries`). */
  inputCostPerQuery?: number;
  /** Price of a second of audio transcribed or translated (`input_cost_per_second`, whisper-1), when the answer reports no tokens. */
  inputCostPerSecond?: number;
  /** Price of a character of text turned into speech (`input_cost_per_character`, tts-1). */
  inputCostPerCharacter?: number;
}

/**
 * One entry of `model_list`, resolved at start: environment variables read, provider known,
 * id stable. Frozen; never mutated after config load.
 */
export interface Deployment {
  /** Stable id: `model_info.id`, else derived from model group + model + api_base (never the key). */
  readonly id: string;
  /** `model_name`: what clients send as `model`. */
  readonly modelGroup: string;
  /**
   * `model_info.mode` (`chat`, `embedding`, `completion`, ...): what the deployment serves, as far
   * as the config says; read by the model health check (`GET /health`). Absent: chat.
   */
  readonly mode?: string;
  /** Registry key of the provider (`openai`, `azure`, `anthropic`, `hosted_vllm`, `mock`, ...). */
  readonly providerName: string;
  /** The part of `litellm_params.model` after the provider prefix (Azure: the deployment name). */
  readonly upstreamModel: string;
  readonly apiBase?: string;
  readonly apiKey?: string;
  readonly apiVersion?: string;
  readonly rpm?: number;
  readonly tpm?: number;
  /**
   * LiteLLM's `max_parallel_requests` (or `router_settings.default_max_parallel_requests`): live
   * requests this process has open on it at once, a stream until its body ends; more wait for a
   * slot (`routing/rate-limits/deployment-slots.ts`). Absent: no bound.
   */
  readonly maxParallelRequests?: number;
  /** LiteLLM's `tags`: which tagged requests it serves under `enable_tag_filtering` (`routing/tag-filter.ts`). */
  readonly tags?: readonly string[];
  /** Per-request timeout for upstream calls, milliseconds. */
  readonly timeoutMs: number;
  /** Timeout of streamed requests, milliseconds (`stream_timeout`); default `timeoutMs`. */
  readonly streamTimeoutMs?: number;
  readonly maxRetries: number;
  /** Weight for the weighted shuffle inside the model group. */
  readonly weight: number;
  /**
   * LiteLLM's deployment `order`: within its group, a deployment is picked only while none of a
   * lower order is available (healthy and not yet tried for the request). Absent: after every ordered one.
   */
  readonly order?: number;
  /** Tokens of prompt its model takes (`model_info.max_input_tokens`, else the catalogue's); absent: unknown. */
  readonly maxInputTokens?: number;
  /**
   * What `/model/info` tells of the model beyond prices, as LiteLLM's does (coding agents read it:
   * context window, vision, tools): `max_tokens`, `max_input_tokens`, `max_output_tokens`, `mode`,
   * `supports_*`, from the catalogue, overridden by the entry's own `model_info`.
   */
  readonly capabilities?: Readonly<Record<string, string | number | boolean>>;
  /** LiteLLM's `model_info.access_groups`: a key whose `models` names one of them may use this deployment's model group. */
  readonly accessGroups?: readonly string[];
  /** This deployment's cooldown after `allowed_fails` failures (LiteLLM's per-deployment `cooldown_time`); absent: the router's. */
  readonly cooldownMs?: number;
  /** `native` uses the provider's batch API; `emulate` runs lines through Portico's batch engine. */
  readonly batchMode: 'native' | 'emulate';
  /** Lines of emulated batches run at once on this deployment, per instance (`batch_concurrency`). */
  readonly batchConcurrency?: number;
  /**
   * Estimated input tokens this deployment's batches not yet ended may hold at most
   * (`batch_max_enqueued_tokens`, Azure's enqueued-token quota); absent: no quota.
   */
  readonly batchMaxEnqueuedTokens?: number;
  readonly pricing: DeploymentPricing;
  /** Drop the OpenAI parameters the provider cannot take (`drop_params`, here or in `litellm_settings`). */
  readonly dropParams?: boolean;
  /** Parameters always removed from requests (`additional_drop_params`). */
  readonly additionalDropParams?: readonly string[];
  /**
   * Let the provider fix up a request it would refuse for its shape (LiteLLM's `modify_params`,
   * here or in `litellm_settings`), each change reported as a `TranslationWarning`.
   */
  readonly modifyParams?: boolean;
  /** Chat parameters used when a request does not set them (`temperature`, `max_tokens`, `seed`, ...). */
  readonly requestDefaults?: Readonly<Record<string, unknown>>;
  /**
   * The original `litellm_params`, for core code (the wildcard `model: "*"`, ids). Providers never
   * read it: they get their typed `settings` (test/architecture/provider-boundaries.test.ts).
   */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * What the provider's settings schema (`Provider.settings`) made of the deployment's
   * `litellm_params` at start, handed to `Provider.createClient`; `undefined` for a provider
   * without one. Opaque to core code.
   */
  readonly settings: unknown;
}

/** `litellm_params.model` as configured (`azure/my-deployment`), for views of a deployment. */
export function configuredModelOf(deployment: Deployment): string {
  const configured = deployment.params.model;
  return typeof configured === 'string' ? configured : `${deployment.providerName}/${deployment.upstreamModel}`;
}

export interface CallOptions {
  /** Aborts the upstream call (client disconnect, timeout). */
  signal?: AbortSignal;
  /** Portico's request id, forwarded upstream for correlation. */
  requestId?: string;
}

/**
 * A request parameter the provider cannot honour as sent, and what Portico did about it
 * (dropped, clamped). A translation never changes a request silently: every such change is a
 * warning on the call's result (`warnings`), which the server shows the client
 * (`x-portico-warnings`) and logs, whatever the provider.
 */
export interface TranslationWarning {
  /** The OpenAI parameter concerned (`temperature`, `messages[3].name`, ...). */
  param: string;
  message: string;
}

/** A JSON answer from an upstream, already in OpenAI's shape. */
export interface UpstreamJsonResponse {
  status: number;
  body: unknown;
  /**
   * `body`'s JSON bytes exactly as the upstream sent them, when `body` is their unmodified parse:
   * a passthrough answer is relayed as these bytes instead of being serialised (and encoded) a
   * second time. Absent when the provider built or translated the body (then `body` is serialised).
   */
  rawBody?: Buffer;
  /** The upstream's request id, when it sent one. */
  upstreamRequestId?: string;
  /** Request parameters removed before the call (`drop_params`), for the client to see. */
  droppedParams?: readonly string[];
  /** What the provider's translation of the request dropped or clamped, for the client to see. */
  warnings?: readonly TranslationWarning[];
  /**
   * The searches a rerank answer is billed as (Cohere's `meta.billed_units.search_units`: one per
   * query of up to 100 documents), priced at the deployment's `inputCostPerQuery`. Absent: none.
   */
  billedQueries?: number;
}

/**
 * A streamed answer, already framed as OpenAI server-sent events (`data: {...}\n\n`,
 * ending with `data: [DONE]\n\n`). Iterating pulls from the upstream: backpressure is the
 * consumer's pace. Breaking out of the iteration (or aborting the signal) closes the upstream.
 */
export interface UpstreamStream {
  status: number;
  body: AsyncIterable<Uint8Array>;
  upstreamRequestId?: string;
  /** Request parameters removed before the call (`drop_params`), for the client to see. */
  droppedParams?: readonly string[];
  /** What the provider's translation of the request dropped or clamped, for the client to see. */
  warnings?: readonly TranslationWarning[];
}

/** A file as the provider holds it, with the status mapped into OpenAI's enum. */
export interface ProviderFile {
  id: string;
  bytes: number;
  createdAt: number;
  filename: string;
  purpose: string;
  status: OpenAIFileStatus;
  /** The provider's own status word (Azure: `pending`, `running`, ...), kept for diagnostics. */
  rawStatus: string;
  statusDetails?: string | null;
  expiresAt?: number | null;
}

export interface FileUploadInput {
  /** The bytes, streamed: a provider must not buffer the whole file. */
  content: Readable;
  filename: string;
  purpose: string;
  bytes: number;
  expiresAfterSeconds?: number;
}

export interface FilesCapability {
  upload(input: FileUploadInput, options?: CallOptions): Promise<ProviderFile>;
  retrieve(providerFileId: string, options?: CallOptions): Promise<ProviderFile>;
  /** Streams the file's bytes. */
  content(providerFileId: string, options?: CallOptions): Promise<Readable>;
  /** Resolves when the file is gone (a 404 from the provider counts as gone). */
  delete(providerFileId: string, options?: CallOptions): Promise<void>;
  /**
   * The account's files of `purpose`, newest first, a page at a time (`after`: the last id of the
   * previous page). How a copy whose provider id was never recorded is found again (by its name).
   */
  list(page: { purpose?: string; after?: string; limit: number }, options?: CallOptions): Promise<ProviderFilePage>;
}

/** One page of a provider's files, newest first. */
export interface ProviderFilePage {
  files: ProviderFile[];
  hasMore: boolean;
}

/** A batch as the provider reports it, normalised into OpenAI's vocabulary. */
export interface ProviderBatch {
  id: string;
  status: BatchStatus;
  /** The provider's own status word, kept for diagnostics. */
  rawStatus: string;
  /** Provider file ids; `null` when absent (Azure's `""` is normalised to `null`). */
  outputFileId: string | null;
  errorFileId: string | null;
  createdAt: number | null;
  inProgressAt: number | null;
  expiresAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  requestCounts: BatchRequestCounts;
  usage: BatchUsage | null;
  errors: BatchErrorItem[] | null;
  /** The batch's metadata as the provider keeps it, where it has any (string values only). */
  metadata?: Record<string, string> | null;
  /**
   * On a create: what the translation of the batch's lines dropped or clamped, each warning once
   * with the number of lines it concerned. Portico keeps them in the batch's metadata.
   */
  warnings?: readonly TranslationWarning[];
  /**
   * A staged part's own state, for Portico to keep with the batch in its database and hand back
   * on the part's next look (`StagedPartContext.state`), on this instance or another: text only
   * its provider reads (a refused create's backoff, `providers/batching/queued-creates.ts`).
   * `undefined` keeps what is kept; `null` clears it.
   */
  partState?: string | null;
  /**
   * The executor has more to do for this batch right away (Portico's engine: a batch that started
   * with its first lines loaded loads the rest): it is refreshed again in the same sync rather
   * than when next due.
   */
  syncAgainNow?: boolean;
}

export interface BatchCreateInput {
  /** OpenAI endpoint as the client requested it (`/v1/chat/completions`); the provider maps it. */
  endpoint: string;
  completionWindow: string;
  metadata?: Record<string, string> | null;
  outputExpiresAfterSeconds?: number;
}

/** One page of a provider's batches, newest first. */
export interface ProviderBatchPage {
  batches: ProviderBatch[];
  hasMore: boolean;
}

/** Batches on providers whose batch API takes an uploaded file (OpenAI, Azure OpenAI). */
export interface FileBatchesCapability {
  readonly kind: 'file';
  /**
   * Whether the provider keeps a batch's `metadata` (Together's batches have none): only then can
   * a create whose answer was lost be found again by the marker Portico sends in it.
   */
  readonly keepsMetadata?: boolean;
  /**
   * A line of the batch input file as this provider wants it, from OpenAI's (whose `body.model`
   * is already the deployment's): absent where the provider takes OpenAI's lines as they are.
   * Mistral: `custom_id` and `body` only, the model named by the job instead.
   */
  inputLine?(line: BatchInputLine): Record<string, unknown>;
  create(input: BatchCreateInput & { providerInputFileId: string }, options?: CallOptions): Promise<ProviderBatch>;
  retrieve(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch>;
  cancel(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch>;
  /** The account's batches, newest first, a page at a time (`after`: the last id of the previous page). */
  list(page: { after?: string; limit: number }, options?: CallOptions): Promise<ProviderBatchPage>;
}

/**
 * One request's result as a provider's batch reports it, keyed by the `custom_id` Portico sent;
 * `spec/batch-result-lines.ts` turns it into the OpenAI output line `StagedBatchesCapability.results` answers.
 */
export interface InlineBatchResult {
  customId: string;
  /** `succeeded` carries an OpenAI-shaped response body (e.g. a chat.completion). */
  outcome:
    | { type: 'succeeded'; statusCode: number; requestId: string; body: unknown }
    | { type: 'http_error'; statusCode: number; requestId: string; body: unknown }
    | { type: 'expired' }
    | { type: 'cancelled' };
}

/**
 * A batch's request lines (or one part's), read afresh on every call: a provider streams them
 * (once to size a part, once to send it, again if the call is retried) and never holds a whole
 * batch in memory.
 */
export type BatchLineSource = () => AsyncIterable<BatchInputLine> | Iterable<BatchInputLine>;

/**
 * One part of a staged batch: a run of consecutive lines of the batch, staged where the
 * provider's batch API reads them, that becomes one provider batch.
 */
export interface StagedBatchPart {
  /**
   * Where the part is staged, in the provider's own terms (`gs://bucket/prefix/batch_x-0.jsonl`,
   * `files/abc123`, `s3://bucket/key`), or `inline` when the create request carries the lines
   * itself (Anthropic).
   */
  readonly location: string;
  /** Index (among the batch's lines) of its first line, and one past its last. */
  readonly start: number;
  readonly end: number;
  /** What the translation of its lines dropped or clamped, each warning once with the lines it concerned. */
  readonly warnings?: readonly TranslationWarning[];
}

/**
 * What Portico hands a staged batch's provider about one part on every look (`retrieve`,
 * `cancel`, `results`): the batch's window and what the provider asked it to keep for the part.
 */
export interface StagedPartContext {
  /**
   * The batch's `expires_at` (unix seconds): its `created_at` plus its completion window, as
   * OpenAI counts it. A part the provider has not taken by then (its create refused) ends expired.
   */
  readonly expiresAt: number;
  /** The part's state as the provider last answered it (`ProviderBatch.partState`), or null. */
  readonly state: string | null;
}

/** What staging knows of the batch: Portico's id names staged objects, so they can be found again. */
export interface BatchStagingContext {
  /** Portico's batch id (`batch_...`). */
  readonly batchId: string;
  /** OpenAI endpoint of every line (`/v1/chat/completions`). */
  readonly endpoint: string;
  /** The batch's `completion_window` (`24h`): refused before anything is staged if the provider cannot keep it. */
  readonly completionWindow: string;
}

/**
 * Batches staged by the provider (issue 11): the batch's lines, already in OpenAI's
 * `BatchRequestInput` shape with Portico's surrogate `custom_id`s (`r<line index>`) and
 * `body.model` set to `batchLineModel`, are handed to `stage` as a stream; the provider
 * translates them, cuts them into parts under its limits, and stages each part where its batch
 * API reads it: inline in the create request (Anthropic), its own Files API (Gemini), a GCS
 * object (Vertex AI), an S3 object (Bedrock). Each part then becomes one provider batch
 * (`create`); Portico keeps their ids as a list and presents them as one batch. The executor
 * (`managed/batches/executors/native-staged.ts`) maps the surrogates back to the client's ids.
 */
export interface StagedBatchesCapability {
  readonly kind: 'staged';
  /**
   * The fewest requests the provider's batch API takes in one batch (Bedrock: 100 records per
   * job; `stage` keeps every part at least this large). A smaller batch runs on Portico's engine
   * instead, with a warning saying so (`nativeMinimumNotMet`).
   */
  readonly minRequestsPerBatch?: number;
  /**
   * Stages the lines; answers the parts in line order, covering every line once. `lines` may be
   * read more than once (to size a part, then to send it), each time streamed afresh from
   * Portico's store: never hold them all. A failure leaves nothing staged that is not cleaned up
   * (or that a lifecycle rule does not remove).
   */
  stage(lines: BatchLineSource, context: BatchStagingContext, options?: CallOptions): Promise<StagedBatchPart[]>;
  /**
   * Creates the provider batch of one staged part. `lines` are that part's lines (for a part
   * staged `inline`: what the create request carries); a part staged elsewhere ignores them.
   * `expiresAt` is the batch's (`StagedPartContext.expiresAt`).
   */
  create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource; expiresAt: number }, options?: CallOptions): Promise<ProviderBatch>;
  retrieve(providerBatchId: string, options?: CallOptions, part?: StagedPartContext): Promise<ProviderBatch>;
  cancel(providerBatchId: string, options?: CallOptions, part?: StagedPartContext): Promise<ProviderBatch>;
  /**
   * The results of an ended provider batch as OpenAI batch output lines, `custom_id` the
   * surrogate the line was staged with (any `id`: Portico assigns its own). A line with a 2xx
   * `response` and no `error` goes to the output file, every other one to the error file. Lines
   * a cancelled or expired part never ran need no line here: the executor answers every line no
   * part answered `batch_cancelled` / `batch_expired` from Portico's copy of the input.
   */
  results(providerBatchId: string, options?: CallOptions, part?: StagedPartContext): AsyncIterable<BatchOutputLine>;
  /** Removes a staged part that will not become a batch (its create failed). Optional: inline parts hold nothing. */
  discard?(part: StagedBatchPart, options?: CallOptions): Promise<void>;
}

export type NativeBatchesCapability = FileBatchesCapability | StagedBatchesCapability;

/** A client bound to one deployment. Optional members are capabilities a provider may lack. */
/**
 * OpenAI's stored responses, on the upstream that answered the create (OpenAI, Azure OpenAI and
 * the OpenAI-compatible servers with a Responses API): `GET` and `DELETE /responses/{id}`, its
 * `input_items`, and `cancel` (a `background` response). Ids are the upstream's own; answers are
 * passed through.
 */
export interface StoredResponsesCapability {
  /** `query`: OpenAI's parameters the gateway passes on (`include[]`, ...), checked by the caller. */
  retrieve(responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamJsonResponse>;
  /** `?stream=true`: a background response's events, replayed after `starting_after` when given. */
  retrieveStream(responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamStream>;
  delete(responseId: string, options?: CallOptions): Promise<UpstreamJsonResponse>;
  inputItems(responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamJsonResponse>;
  cancel(responseId: string, options?: CallOptions): Promise<UpstreamJsonResponse>;
}

export interface ProviderClient {
  readonly deployment: Deployment;
  /** The `body.model` to write into batch lines placed on this deployment (Azure: deployment name). */
  readonly batchLineModel: string;
  chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream>;
  embeddings?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  responses?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  responsesStream?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream>;
  /** The responses its `responses` stored, where the upstream keeps them (absent: a bridged Responses API stores nothing). */
  readonly storedResponses?: StoredResponsesCapability;
  /** The legacy `/v1/completions` (a `prompt`, `text_completion` answers): OpenAI and the servers that keep it (vLLM, ...). */
  completions?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  completionsStream?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream>;
  /** OpenAI's `/moderations` (OpenAI and OpenAI-compatible servers that have it). */
  moderations?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  /** OpenAI's `/images/generations` (OpenAI, Azure OpenAI, OpenAI-compatible servers that have it). */
  imageGenerations?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  /** OpenAI's `/audio/speech`: the audio's bytes (or its events, `stream_format: "sse"`) as the upstream sent them. */
  audioSpeech?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamAudioResponse>;
  /** OpenAI's `/audio/transcriptions`: the transcript in the format the form asked for, or its events (`stream`). */
  audioTranscriptions?(upload: AudioUpload, options?: CallOptions): Promise<UpstreamAudioResponse>;
  /** OpenAI's `/audio/translations` (into English). */
  audioTranslations?(upload: AudioUpload, options?: CallOptions): Promise<UpstreamAudioResponse>;
  /**
   * Anthropic's Messages API (`/v1/messages`), the request and the answer in Anthropic's own shape,
   * passed through: Anthropic's provider. A stream is Anthropic's event stream, relayed as sent.
   */
  anthropicMessages?(request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse>;
  anthropicMessagesStream?(request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamStream>;
  /** Anthropic's token count of a Messages request (`/v1/messages/count_tokens`, answering `{input_tokens}`). */
  anthropicCountTokens?(request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse>;
  /**
   * LiteLLM's rerank (`/rerank`, Cohere's request and answer, `spec/rerank.ts`): Cohere and the
   * self-hosted servers that serve it (vLLM, Infinity). The answer sets `billedQueries`.
   */
  rerank?(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  readonly files?: FilesCapability;
  readonly batches?: NativeBatchesCapability;
}

/**
 * How a provider reads its own `litellm_params` (issue 11): a zod schema, parsed once at start.
 *
 * The schema receives the deployment's `litellm_params` with `os.environ/NAME` references already
 * resolved, a `credential_list` entry's values filled in, `api_key` / `api_base` / `api_version`
 * as resolved (including `environmentDefaults`), keys written empty (`key:`) left out, and the
 * keys of `environment` filled from the environment where the params leave them out. Use
 * `z.object` (unknown keys are stripped: the config loader warns about keys nobody reads); the
 * object's keys count as keys the provider reads. Each issue is a start-up error at its path,
 * `model_list[3].litellm_params.aws_region_name: ...`; a refinement may put an issue at any key.
 * A `.transform` may build the settings type (parse URLs, read a key file): it runs at start.
 */
export interface ProviderSettingsSchema<Settings> {
  readonly schema: z.ZodType<Settings>;
  /**
   * Environment variables read for a key the params leave out, the first one set winning, as
   * LiteLLM reads them (`aws_region_name: ['AWS_REGION_NAME', 'AWS_REGION']`). The config's
   * `environment_variables:` count as environment.
   */
  readonly environment?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A provider family: one registry entry per model prefix. `Settings` is what its settings schema
 * parses a deployment's `litellm_params` into; `createClient` receives it, typed.
 */
export interface Provider<Settings = unknown> {
  /** Model prefixes it serves (`azure` for `azure/...`). */
  readonly names: readonly string[];
  /** Default for `batch_mode` when the config does not say: providers without a batch API emulate. */
  readonly defaultBatchMode: 'native' | 'emulate';
  /** The provider's `litellm_params` and how they are read; absent: it reads none (`settings` is `undefined`). */
  readonly settings?: ProviderSettingsSchema<Settings>;
  /**
   * Problems its settings schema cannot see (they concern the deployment's common fields, e.g.
   * Azure without `api_base`), as messages. A message starting with a `litellm_params` key and
   * a colon (`"api_base: ..."`) is reported at that key. Not called when the settings failed.
   */
  validate?(deployment: Deployment, settings: Settings): string[];
  /**
   * What the deployment's settings do that its author may not expect (LiteLLM's reading of an
   * odd value, kept for the drop-in), as messages in `validate`'s form: warned about at load.
   */
  warnings?(deployment: Deployment, settings: Settings): string[];
  /** The client of one deployment, with its parsed settings. */
  createClient(deployment: Deployment, settings: Settings): ProviderClient;
  /**
   * Environment variables read when `litellm_params` leaves a value out, as LiteLLM does
   * (`OPENAI_API_KEY`, `AZURE_API_BASE`, ...); the first one set wins. Keyed by model prefix.
   */
  environmentDefaults?(providerName: string): ProviderEnvironmentDefaults;
  /**
   * `litellm_params` keys this provider accepts beyond the common ones and its settings schema's
   * (no unknown-key warning), e.g. LiteLLM keys it accepts and ignores.
   */
  readonly paramKeys?: readonly string[];
  /**
   * OpenAI chat parameters this provider's API cannot take: dropped from requests when the
   * deployment has `drop_params` (LiteLLM's "unsupported params"). Keyed by model prefix.
   */
  unsupportedParams?(providerName: string): readonly string[];
}

/** Names of environment variables that supply a deployment's missing connection values. */
export interface ProviderEnvironmentDefaults {
  apiKey?: readonly string[];
  apiBase?: readonly string[];
  apiVersion?: readonly string[];
}
