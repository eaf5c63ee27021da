/**
 * Key deletions told to every instance and worker through Redis pub/sub, so that each drops the
 * key from its lookup cache at once instead of serving it until the cache's TTL (about 10 s)
 * runs out. Several workers of one Portico are separate processes with caches of their own: a
 * key deleted through one worker must not keep working on the next request another worker takes.
 *
 * Best effort on top of the TTL, which stays the bound: a publish while Redis is down, or a
 * message sent while a subscriber was reconnecting, is lost, and that cache drops the key
 * within the TTL as before. Messages carry key hashes (SHA-256, never secrets).
 */
import type { Redis } from 'ioredis';
import type { RedisConnection } from './redis-connection.ts';

export class RedisKeyEvictions {
  readonly #redis: RedisConnection;
  readonly #channel: string;
  #subscriber: Redis | undefined;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    this.#channel = `${redis.prefix}keys:evicted`;
  }

  /** Tells every subscriber (this process's own included) that these keys changed. Never throws. */
  async publish(keyHashes: readonly string[]): Promise<void> {
    if (keyHashes.length === 0) return;
    try {
      await this.#redis.send(() => this.#redis.client.publish(this.#channel, keyHashes.join(' ')));
    } catch (error) {
      this.#redis.failedOpen('key eviction publish', error);
    }
  }

  /** Calls `onEvicted` with the hashes of every eviction published, by any instance. */
  subscribe(onEvicted: (keyHashes: readonly string[]) => void): void {
    const subscriber = this.#redis.subscriber();
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) onEvicted(message.split(' ').filter((hash) => hash !== ''));
    });
    subscriber.subscribe(this.#channel).catch((error: unknown) => this.#redis.failedOpen('key eviction subscribe', error));
  }

  /** Stops listening (the connection's owner closes it). */
  close(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    // Not awaited: with Redis away it would wait for a reconnection.
    if (subscriber) subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }
}
