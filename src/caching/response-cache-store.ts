/** The response cache the config asks for (`ResponseCacheConfig`), built at start. */
import type { ResponseCacheConfig } from '../config/types.ts';
import type { RedisConnection } from '../coordination/redis-connection.ts';
import type { Logger } from '../observability/logger.ts';
import { LocalResponseCache } from './local-response-cache.ts';
import { RedisResponseCache } from './redis-response-cache.ts';
import type { ResponseCacheSettings, ResponseCacheStore } from './response-cache.ts';

export interface ResponseCache {
  readonly store: ResponseCacheStore;
  readonly settings: ResponseCacheSettings;
}

/**
 * `shared`: the gateway's own Redis connection, when it has one: a Redis cache without a host of
 * its own uses it (and its key prefix); with a host of its own, a connection of its own.
 */
export async function createResponseCache(config: ResponseCacheConfig, shared: RedisConnection | undefined, logger: Logger): Promise<ResponseCache> {
  const settings: ResponseCacheSettings = { ttlSeconds: config.ttlSeconds, callTypes: new Set(config.callTypes), mode: config.mode };
  if (config.type === 'local') return { store: new LocalResponseCache(), settings };
  if (config.redisUrl !== undefined) {
    // Imported here: ioredis is loaded only where Redis is configured (as in `createSharedState`).
    const { connectRedis } = await import('../coordination/redis-connection.ts');
    const redis = await connectRedis(config.redisUrl, { ...(shared !== undefined && { prefix: shared.prefix }), logger });
    return { store: new RedisResponseCache(redis, { ...(config.namespace !== undefined && { namespace: config.namespace }), owned: true }), settings };
  }
  if (shared !== undefined) return { store: new RedisResponseCache(shared, { ...(config.namespace !== undefined && { namespace: config.namespace }), owned: false }), settings };
  logger.warn('response cache: cache_params.type is redis but no Redis is configured (cache_params.host, REDIS_HOST, router_settings or REDIS_URL); answers are cached in this process only');
  return { store: new LocalResponseCache(), settings };
}
