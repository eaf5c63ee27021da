/**
 * The response cache in Redis (`cache_params.type: redis`): shared by every instance, each answer
 * a key with its ttl (`SET ... EX`). Redis being down is a miss (and no write), never a failed
 * request: the connection's circuit breaker fails open and warns.
 */
import type { RedisConnection } from '../coordination/redis-connection.ts';
import type { CachedAnswer, ResponseCacheStore } from './response-cache.ts';

export class RedisResponseCache implements ResponseCacheStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #owned: boolean;

  /** `namespace`: LiteLLM's `cache_params.namespace`; `owned`: the connection is closed with the cache. */
  constructor(redis: RedisConnection, options: { namespace?: string; owned: boolean }) {
    this.#redis = redis;
    this.#prefix = `${redis.prefix}cache:${options.namespace === undefined ? '' : `${options.namespace}:`}`;
    this.#owned = options.owned;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    try {
      const stored = await this.#redis.send(() => this.#redis.client.get(this.#prefix + key));
      if (stored === null) return undefined;
      const newline = stored.indexOf('\n');
      return { storedAt: Number(stored.slice(0, newline)), text: stored.slice(newline + 1) };
    } catch (error) {
      this.#redis.failedOpen('response cache read', error);
      return undefined;
    }
  }

  async set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    try {
      await this.#redis.send(() => this.#redis.client.set(this.#prefix + key, `${answer.storedAt}\n${answer.text}`, 'EX', Math.max(1, Math.round(ttlSeconds))));
    } catch (error) {
      this.#redis.failedOpen('response cache write', error);
    }
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#redis.close();
  }
}
