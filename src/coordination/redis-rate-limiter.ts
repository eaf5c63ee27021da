/**
 * `RateLimiter` shared by every instance on one Redis: the same sliding-window counter as
 * `routing/rate-limits/in-memory-rate-limiter.ts`, kept in one Redis hash per key and changed by
 * one Lua script, so a check and its add are atomic across instances (two instances can never
 * both take the last unit).
 *
 * - Windows are aligned on Redis's own clock (`TIME` inside the script), so instances whose
 *   clocks drift still agree on them.
 * - A key is a hash `{w: window index, c: current count, p: previous window's count}` with a TTL
 *   of two windows: an idle key disappears by itself.
 * - Fails open: when Redis cannot be reached (or is treated as down, `RedisConnection.send`), `tryAcquire` grants, `usage` reads 0 and `record`
 *   does nothing, with a throttled warning (`RedisConnection.failedOpen`). A gateway without its
 *   limits for a while is better than a gateway down.
 */
import type { RateLimitDecision, RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import type { RedisConnection } from './redis-connection.ts';

/**
 * KEYS[1]: the counter hash. ARGV: mode (`acquire` | `record` | `usage`), amount, limit, window ms.
 * Answers `{granted 0|1, used (string: Lua numbers are truncated to integers on the way out),
 * retry-after ms}`.
 */
const SLIDING_WINDOW_LUA = `
local key = KEYS[1]
local mode = ARGV[1]
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local index = math.floor(now / window)
local state = redis.call('HMGET', key, 'w', 'c', 'p')
local w = tonumber(state[1])
local current = tonumber(state[2]) or 0
local previous = tonumber(state[3]) or 0
if w == nil then
  current = 0
  previous = 0
elseif w ~= index then
  if w == index - 1 then previous = current else previous = 0 end
  current = 0
end
local start = index * window
local elapsed = (now - start) / window
local used = previous * (1 - elapsed) + current
if used < 0 then used = 0 end
if mode == 'usage' then
  return {1, tostring(used), 0}
end
if mode == 'acquire' and used + amount > limit then
  local wait
  if amount > limit then
    wait = window
  else
    local room = limit - amount - current
    if room >= 0 and previous > 0 then
      wait = math.ceil(((1 - room / previous) - elapsed) * window)
    else
      local needed = 0
      if current > 0 then needed = math.max(0, 1 - (limit - amount) / current) end
      wait = math.ceil(start + window - now + needed * window)
    end
    if wait < 1 then wait = 1 end
  end
  return {0, tostring(used), wait}
end
current = current + amount
redis.call('HSET', key, 'w', index, 'c', current, 'p', previous)
redis.call('PEXPIRE', key, window * 2)
local after = previous * (1 - elapsed) + current
if after < 0 then after = 0 end
return {1, tostring(after), 0}
`;

type SlidingWindowReply = [number, string, number];
type SlidingWindowCommand = (key: string, mode: 'acquire' | 'record' | 'usage', amount: number, limit: number, windowMs: number) => Promise<SlidingWindowReply>;

const COMMAND = 'porticoSlidingWindow';

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisConnection;
  readonly #run: SlidingWindowCommand;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
    // ioredis sends EVALSHA and falls back to EVAL once when the script is not cached yet.
    redis.client.defineCommand(COMMAND, { numberOfKeys: 1, lua: SLIDING_WINDOW_LUA });
    const command = (redis.client as unknown as Record<string, SlidingWindowCommand>)[COMMAND].bind(redis.client);
    // Through the circuit breaker: a Redis that hangs fails the call at once, not after the timeout.
    this.#run = (...args) => redis.send(() => command(...args));
  }

  /** The Redis key of a limiter key. */
  redisKey(key: string): string {
    return `${this.#redis.prefix}rate:${key}`;
  }

  async tryAcquire(key: string, amount: number, limit: number, windowMs: number): Promise<RateLimitDecision> {
    try {
      const [granted, used, wait] = await this.#run(this.redisKey(key), 'acquire', amount, limit, windowMs);
      return granted === 1 ? { granted: true, used: Number(used), retryAfterMs: 0 } : { granted: false, used: Number(used), retryAfterMs: Number(wait) };
    } catch (error) {
      this.#redis.failedOpen('rate-limit acquire', error);
      return { granted: true, used: 0, retryAfterMs: 0 };
    }
  }

  async record(key: string, amount: number, windowMs: number): Promise<void> {
    if (amount === 0) return;
    try {
      await this.#run(this.redisKey(key), 'record', amount, 0, windowMs);
    } catch (error) {
      this.#redis.failedOpen('rate-limit record', error);
    }
  }

  async usage(key: string, windowMs: number): Promise<number> {
    try {
      const [, used] = await this.#run(this.redisKey(key), 'usage', 0, 0, windowMs);
      return Number(used);
    } catch (error) {
      this.#redis.failedOpen('rate-limit usage', error);
      return 0;
    }
  }
}
