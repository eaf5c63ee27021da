/**
 * `max_parallel_requests` across instances: each counter is a sorted set of leases scored by when
 * they end (Redis's own clock), so a request takes slots of its key, user and team in one atomic
 * script, gives them back with ZREM when it ends, and slots of an instance that died end by
 * themselves after `PARALLEL_LEASE_MS`. Redis unreachable: requests are let through (fail open,
 * as the rate limits are), and said so by the connection's warning.
 */
import type { ParallelRequestLimiter, ParallelSlot } from '../routing/rate-limits/parallel-requests.ts';
import { PARALLEL_LEASE_MS } from '../routing/rate-limits/parallel-requests.ts';
import type { RedisConnection } from './redis-connection.ts';

// KEYS: the counters; ARGV: lease id, lease ms, then one limit per key. Answers 0 when taken,
// else the 1-based index of the first full counter.
const ENTER_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl)
end
return 0
`;

type EnterCommand = (...args: (string | number)[]) => Promise<number>;
const COMMAND = 'porticoParallelEnter';

export class RedisParallelRequests implements ParallelRequestLimiter {
  readonly #redis: RedisConnection;
  readonly #enter: EnterCommand;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    redis.client.defineCommand(COMMAND, { lua: ENTER_LUA });
    const command = (redis.client as unknown as Record<string, EnterCommand>)[COMMAND].bind(redis.client);
    this.#enter = (...args) => redis.send(() => command(...args));
  }

  redisKey(key: string): string {
    return `${this.#redis.prefix}parallel:${key}`;
  }

  async tryEnter(slots: readonly ParallelSlot[], leaseId: string): Promise<number> {
    if (slots.length === 0) return -1;
    try {
      const full = Number(await this.#enter(slots.length, ...slots.map((slot) => this.redisKey(slot.key)), leaseId, PARALLEL_LEASE_MS, ...slots.map((slot) => slot.limit)));
      return full === 0 ? -1 : full - 1;
    } catch (error) {
      this.#redis.failedOpen('parallel requests enter', error);
      return -1;
    }
  }

  async leave(keys: readonly string[], leaseId: string): Promise<void> {
    try {
      await Promise.all(keys.map((key) => this.#redis.send(() => this.#redis.client.zrem(this.redisKey(key), leaseId))));
    } catch (error) {
      // The lease ends by itself after PARALLEL_LEASE_MS.
      this.#redis.failedOpen('parallel requests leave', error);
    }
  }
}
