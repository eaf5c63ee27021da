/**
 * The fields of a model request that are the gateway's, not the provider's, as on LiteLLM's proxy,
 * whose clients send them and expect them never to reach the model's API:
 *
 * - `cache`: LiteLLM's cache controls (`caching/response-cache.ts` reads them);
 * - `tags`, and `metadata.tags`, with the `x-litellm-tags` header: the request's tags, which tag
 *   routing reads (`routing/tag-filter.ts`);
 * - `metadata`: on LiteLLM's proxy the body's `metadata` is its own (tags, trace and generation
 *   names for its logging integrations, any key a client likes) and is not sent to the provider
 *   (https://github.com/BerriAI/litellm/issues/8209: sending it made OpenAI refuse requests).
 *   OpenAI has a `metadata` of its own: at most 16 string values, on chat completions with
 *   `store: true` (stored completions), and on responses. A `metadata` that is OpenAI's in that
 *   sense goes on; any other stays with the gateway;
 * - `litellm_metadata`: LiteLLM's newer name for its own metadata;
 * - LiteLLM's other request parameters (`GATEWAY_FIELDS`): request-level fallbacks, retries and
 *   timeout (honoured: `request-controls.ts`), `mock_response` (answered by the gateway), and the
 *   rest, which the config decides on Portico (credentials, prices) or which concern LiteLLM's
 *   logging integrations.
 */
import { headerOf } from './request-controls.ts';

/** OpenAI's bound on `metadata` (https://platform.openai.com/docs/api-reference/chat/create). */
const MAX_METADATA_KEYS = 16;
const MAX_METADATA_KEY_LENGTH = 64;
const MAX_METADATA_VALUE_LENGTH = 512;

/** The header LiteLLM reads request tags from: a comma-separated list. */
export const TAGS_HEADER = 'x-litellm-tags';

/** Whether `metadata` is OpenAI's: an object of at most 16 short string values. */
function isOpenAIMetadata(metadata: unknown): boolean {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return false;
  const entries = Object.entries(metadata);
  return (
    entries.length <= MAX_METADATA_KEYS &&
    entries.every(([key, value]) => key.length <= MAX_METADATA_KEY_LENGTH && typeof value === 'string' && value.length <= MAX_METADATA_VALUE_LENGTH)
  );
}

/** Whether `metadata` is Anthropic's: at most a string `user_id` (https://docs.anthropic.com/en/api/messages). */
function isAnthropicMetadata(metadata: unknown): boolean {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return false;
  return Object.entries(metadata).every(([key, value]) => key === 'user_id' && (typeof value === 'string' || value === null));
}

/** Whether the endpoint at `path` (`/chat/completions`, ...) would take this body's `metadata` as OpenAI's. */
function metadataGoesUpstream(path: string, body: Record<string, unknown>): boolean {
  if (path === '/responses') return isOpenAIMetadata(body.metadata);
  if (path === '/chat/completions') return body.store === true && isOpenAIMetadata(body.metadata);
  // Anthropic's Messages API (`spec/anthropic-messages.ts`) takes `metadata: {user_id}` and nothing else.
  if (path === '/messages') return isAnthropicMetadata(body.metadata);
  return false;
}

/**
 * LiteLLM's request parameters (its `all_litellm_params`, those a client sends to the proxy): its
 * routing and retry controls (`request-controls.ts` reads the ones Portico honours), mocks,
 * client-side credentials and prices (never honoured: the config holds those), logging fields.
 * OpenAI refuses a request with any of them ("Unrecognized request argument supplied").
 */
const GATEWAY_FIELDS: ReadonlySet<string> = new Set([
  'cache',
  'caching',
  'tags',
  'litellm_metadata',
  'litellm_trace_id',
  'litellm_session_id',
  'litellm_call_id',
  'fallbacks',
  'context_window_fallback_dict',
  'num_retries',
  'retry_policy',
  'timeout',
  'request_timeout',
  'stream_timeout',
  'mock_response',
  'mock_timeout',
  'mock_testing_fallbacks',
  'mock_testing_context_fallbacks',
  'mock_testing_content_policy_fallbacks',
  'api_key',
  'api_base',
  'api_version',
  'custom_llm_provider',
  'input_cost_per_token',
  'output_cost_per_token',
  'guardrails',
  'prompt_id',
  'prompt_variables',
  'no-log',
]);

/** The body without the gateway's fields; the same object when it has none (the usual request). */
export function upstreamBodyOf(path: string, body: Record<string, unknown>): Record<string, unknown> {
  let found = false;
  for (const key in body) {
    if (GATEWAY_FIELDS.has(key)) {
      found = true;
      break;
    }
  }
  const dropMetadata = Object.hasOwn(body, 'metadata') && !metadataGoesUpstream(path, body);
  if (!found && !dropMetadata) return body;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    if (GATEWAY_FIELDS.has(key) || (dropMetadata && key === 'metadata')) continue;
    // As a spread would: an own "__proto__" key stays a key (assigning it would set the prototype).
    if (key === '__proto__') Object.defineProperty(copy, key, { value: body[key], enumerable: true, writable: true, configurable: true });
    else copy[key] = body[key];
  }
  return copy;
}

function tagList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
  if (Array.isArray(value)) return value.filter((tag): tag is string => typeof tag === 'string' && tag.trim() !== '').map((tag) => tag.trim());
  return [];
}

/** Whether the request may carry tags at all (the usual request: three key checks, no work). */
export function carriesTags(body: Record<string, unknown>, tagsHeader: string | string[] | undefined): boolean {
  return body.tags !== undefined || tagsHeader !== undefined || (body.metadata !== undefined && body.metadata !== null) || (body.litellm_metadata !== undefined && body.litellm_metadata !== null);
}

/**
 * The request's tags, as LiteLLM collects them: the body's `tags` (a list, or a comma-separated
 * string), `metadata.tags` and `litellm_metadata.tags`, and the `x-litellm-tags` header; each once.
 */
export function requestTagsOf(body: Record<string, unknown>, tagsHeader: string | string[] | undefined): readonly string[] {
  const metadata = body.metadata as { tags?: unknown } | null | undefined;
  const litellmMetadata = body.litellm_metadata as { tags?: unknown } | null | undefined;
  const header = Array.isArray(tagsHeader) ? tagsHeader.join(',') : tagsHeader;
  const tags = [
    ...tagList(body.tags),
    ...(metadata !== null && typeof metadata === 'object' ? tagList(metadata.tags) : []),
    ...(litellmMetadata !== null && typeof litellmMetadata === 'object' ? tagList(litellmMetadata.tags) : []),
    ...tagList(header),
  ];
  return tags.length <= 1 ? tags : [...new Set(tags)];
}

/** LiteLLM's standard end-user headers, read without any configuration, in its order. */
const END_USER_HEADERS = ['x-litellm-customer-id', 'x-litellm-end-user-id'] as const;

/** Longer names are cut: the spend row keeps a label, not a document. */
const MAX_END_USER_CHARS = 256;

/**
 * Who the request is for, as LiteLLM reads it (its `end_user`), first found in LiteLLM's documented
 * order (https://docs.litellm.ai/docs/proxy/customers): `x-litellm-customer-id`,
 * `x-litellm-end-user-id`, the header the config names (`user_header_mappings`' customer or
 * `user_header_name`: Open WebUI's `X-OpenWebUI-User-Email`, say), OpenAI's `user` field,
 * `litellm_metadata.user`, `metadata.user_id` (Anthropic's), the Responses API's
 * `safety_identifier`; undefined when the request names nobody.
 */
export function endUserOf(headers: Readonly<Record<string, string | string[] | undefined>>, body: Record<string, unknown>, userHeaderName: string | undefined): string | undefined {
  for (const name of userHeaderName === undefined ? END_USER_HEADERS : [...END_USER_HEADERS, userHeaderName]) {
    const text = headerOf(headers, name);
    if (text !== undefined && text.trim() !== '') return text.trim().slice(0, MAX_END_USER_CHARS);
  }
  const litellmMetadata = body.litellm_metadata;
  const metadata = body.metadata;
  for (const candidate of [
    body.user,
    litellmMetadata !== null && typeof litellmMetadata === 'object' ? (litellmMetadata as Record<string, unknown>).user : undefined,
    metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>).user_id : undefined,
    body.safety_identifier,
  ]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate.slice(0, MAX_END_USER_CHARS);
  }
  return undefined;
}

/**
 * `tags` plus `<header>: <value>` (LiteLLM's form) for each header of
 * `litellm_settings.extra_spend_tag_headers` the request carries; `headers` pairs each name as
 * written (the tag) with its lower-cased key (how Node keys it), made once at start.
 */
export function withHeaderTags(
  tags: readonly string[] | undefined,
  requestHeaders: Readonly<Record<string, string | string[] | undefined>>,
  headers: ReadonlyArray<readonly [string, string]>,
): readonly string[] | undefined {
  const added: string[] = [];
  for (const [header, key] of headers) {
    const text = headerOf(requestHeaders, key);
    if (text !== undefined && text.trim() !== '') added.push(`${header}: ${text.trim().slice(0, MAX_END_USER_CHARS)}`);
  }
  if (added.length === 0) return tags;
  return [...new Set([...(tags ?? []), ...added])];
}
