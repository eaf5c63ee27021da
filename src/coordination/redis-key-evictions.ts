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
import type { RedisConnection } from './redis-connection.ts';
import { RedisNotices } from './redis-notices.ts';

export class RedisKeyEvictions extends RedisNotices {
  constructor(redis: RedisConnection) {
    super(redis, 'keys:evicted', 'key eviction');
  }
}
