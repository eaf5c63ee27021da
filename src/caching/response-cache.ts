/**
 * LiteLLM's response cache (`litellm_settings.cache: true`, `cache_params`;
 * https://docs.litellm.ai/docs/proxy/caching): a model request asked again with the same body is
 * answered from the cache instead of the provider: only 200s, and only for the call types
 * configured (`supported_call_types`, LiteLLM's names: `acompletion`, `atext_completion`,
 * `aembedding`, ...). A streamed chat completion is assembled into the completion it amounts to
 * and played back as a stream (`chat-stream-cache.ts`); other streamed requests take no part.
 *
 * The key is the model group and the request's body without what does not change the answer
 * (`user`, `metadata`, `stream`, `stream_options`, the `cache` controls themselves), hashed. A request steers
 * the cache with LiteLLM's `cache` object in its body: `no-cache` (do not read), `no-store` (do not
 * write), `ttl` (seconds this answer is kept), `s-maxage` (accept only an answer at most this many
 * seconds old), and, in `default_off` mode, `use-cache` (take part at all).
 */
import { createHash } from 'node:crypto';

/** A cached answer: the upstream's JSON text and when it was stored (unix ms). */
export interface CachedAnswer {
  readonly text: string;
  readonly storedAt: number;
}

/** Where answers are kept: in this process, or in Redis for every instance. */
export interface ResponseCacheStore {
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void>;
  close?(): Promise<void>;
}

export interface ResponseCacheSettings {
  readonly ttlSeconds: number;
  /** LiteLLM's call types whose answers are cached (`acompletion`, `aembedding`, ...). */
  readonly callTypes: ReadonlySet<string>;
  /** `default_on`: every request takes part; `default_off`: only those that ask (`cache: {use-cache: true}`). */
  readonly mode: 'default_on' | 'default_off';
}

/** What one request asks of the cache. */
export interface CacheUse {
  readonly key: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly ttlSeconds: number;
  /** Oldest acceptable answer, ms before now; undefined: any. */
  readonly maxAgeMs?: number;
}

/** LiteLLM's call type of each model route (its `supported_call_types` names the async ones). */
const CALL_TYPES: Readonly<Record<string, readonly string[]>> = {
  '/chat/completions': ['acompletion', 'completion'],
  '/completions': ['atext_completion', 'text_completion'],
  '/embeddings': ['aembedding', 'embedding'],
  '/responses': ['aresponses', 'responses'],
  '/rerank': ['arerank', 'rerank'],
};

/** Body fields that do not change the answer, left out of the key (a stream is the same answer, played back as one). */
const NOT_IN_KEY = new Set(['user', 'metadata', 'stream', 'stream_options', 'cache']);

/** LiteLLM's default `supported_call_types` that Portico serves (responses are not among them). */
export const DEFAULT_CACHED_CALL_TYPES: readonly string[] = ['acompletion', 'completion', 'atext_completion', 'text_completion', 'aembedding', 'embedding', 'arerank', 'rerank'];

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * What a request on `route` to `modelGroup` asks of the cache; undefined when it does not take
 * part (a stream other than a chat completion's, a call type not cached, `default_off` without `use-cache`).
 */
/**
 * `scope`: who the answer belongs to, where it is an object of its caller's (a stored Response,
 * whose id only its owner may use): part of the key, so one owner's answer is never another's.
 */
export function cacheUseOf(route: string, modelGroup: string, body: Record<string, unknown>, settings: ResponseCacheSettings, scope?: string): CacheUse | undefined {
  // A stream of a chat completion shares its entry with the same request unstreamed (`stream` is not in the key).
  if (body.stream === true && route !== '/chat/completions') return undefined;
  if (!(CALL_TYPES[route] ?? []).some((type) => settings.callTypes.has(type))) return undefined;
  const controls = body.cache !== null && typeof body.cache === 'object' && !Array.isArray(body.cache) ? (body.cache as Record<string, unknown>) : {};
  if (settings.mode === 'default_off' && controls['use-cache'] !== true) return undefined;
  const keyed: Record<string, unknown> = { route, model: modelGroup, ...(scope !== undefined && { scope }) };
  for (const name of Object.keys(body).sort()) if (!NOT_IN_KEY.has(name) && name !== 'model') keyed[name] = body[name];
  const key = createHash('sha256').update(JSON.stringify(keyed)).digest('hex');
  const maxAge = numberOf(controls['s-maxage']);
  return {
    key,
    read: controls['no-cache'] !== true,
    write: controls['no-store'] !== true,
    ttlSeconds: numberOf(controls.ttl) ?? settings.ttlSeconds,
    ...(maxAge !== undefined && { maxAgeMs: maxAge * 1000 }),
  };
}

/** A cached answer `use` may take, at `now` (unix ms). */
export function acceptable(answer: CachedAnswer | undefined, use: CacheUse, now: number): answer is CachedAnswer {
  return answer !== undefined && (use.maxAgeMs === undefined || now - answer.storedAt <= use.maxAgeMs);
}
