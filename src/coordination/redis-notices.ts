/**
 * A `NoticeChannel` (`spec/notice-channel.ts`) over Redis pub/sub: one channel per kind of notice
 * under the instance's key prefix, so every instance and worker sharing the Redis (and the
 * prefix) hears it. Key deletions (`redis-key-evictions.ts`) and released batch quota
 * (`jobs/batch-quota-starter.ts`) travel this way.
 *
 * Best effort: a publish while Redis is down, or a message sent while a subscriber was
 * reconnecting, is lost; what it hurried happens later all the same (a cache's TTL, a poll).
 * Messages are words joined by spaces: ids and hashes, never secrets.
 */
import type { Redis } from 'ioredis';
import type { NoticeChannel } from '../spec/notice-channel.ts';
import type { RedisConnection } from './redis-connection.ts';

export class RedisNotices implements NoticeChannel {
  readonly #redis: RedisConnection;
  readonly #channel: string;
  /** What the notices are, in log lines about a failure. */
  readonly #what: string;
  #subscriber: Redis | undefined;

  /** `topic`: the channel's name under the prefix (`keys:evicted`). */
  constructor(redis: RedisConnection, topic: string, what: string) {
    this.#redis = redis;
    this.#channel = `${redis.prefix}${topic}`;
    this.#what = what;
  }

  /** Tells every subscriber (this process's own included). Never throws. */
  async publish(words: readonly string[]): Promise<void> {
    if (words.length === 0) return;
    try {
      await this.#redis.send(() => this.#redis.client.publish(this.#channel, words.join(' ')));
    } catch (error) {
      this.#redis.failedOpen(`${this.#what} publish`, error);
    }
  }

  /** Calls `listener` with the words of every notice published, by any instance. */
  subscribe(listener: (words: readonly string[]) => void): void {
    const subscriber = this.#redis.subscriber(this.#channel, this.#what);
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) listener(message.split(' ').filter((word) => word !== ''));
    });
  }

  /** Stops listening (the connection's owner closes it). */
  close(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    // Not awaited: with Redis away it would wait for a reconnection.
    if (subscriber) subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }
}
