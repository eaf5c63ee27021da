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
 * - `litellm_metadata`: LiteLLM's newer name for its own metadata.
 */

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

/** Whether the endpoint at `path` (`/chat/completions`, ...) would take this body's `metadata` as OpenAI's. */
function metadataGoesUpstream(path: string, body: Record<string, unknown>): boolean {
  if (path === '/responses') return isOpenAIMetadata(body.metadata);
  if (path === '/chat/completions') return body.store === true && isOpenAIMetadata(body.metadata);
  return false;
}

/** The body without the gateway's fields; the same object when it has none (the usual request). */
export function upstreamBodyOf(path: string, body: Record<string, unknown>): Record<string, unknown> {
  const hasCache = Object.hasOwn(body, 'cache');
  const hasTags = Object.hasOwn(body, 'tags');
  const hasLitellmMetadata = Object.hasOwn(body, 'litellm_metadata');
  const dropMetadata = Object.hasOwn(body, 'metadata') && !metadataGoesUpstream(path, body);
  if (!hasCache && !hasTags && !hasLitellmMetadata && !dropMetadata) return body;
  const copy = { ...body };
  delete copy.cache;
  delete copy.tags;
  delete copy.litellm_metadata;
  if (dropMetadata) delete copy.metadata;
  return copy;
}

function tagList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
  if (Array.isArray(value)) return value.filter((tag): tag is string => typeof tag === 'string' && tag.trim() !== '').map((tag) => tag.trim());
  return [];
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
