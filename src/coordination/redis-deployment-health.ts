/**
 * Deployment cooldowns shared by every instance on one Redis (LiteLLM `allowed_fails` /
 * `cooldown_time`, the rule of `routing/cooldown.ts`): a deployment that failed `allowedFails`
 * times within the window, counted across all instances, cools down for all of them.
 *
 * - A failure runs one Lua script: it adds the failure to a sorted set (score = Redis time, TTL
 *   of one window), and when the count reaches `allowedFails` clears it, sets the cooldown key
 *   (TTL = `cooldownMs`) and PUBLISHes the cooldown to every instance.
 * - Reading is free: `coolingDown()` answers from a local mirror, fed by that channel and
 *   re-read from the cooldown keys' TTLs every `resyncMs` (and after a reconnect), so routing a
 *   request costs no Redis round trip.
 * - Fails open: a failure that cannot reach Redis is counted in a local, per-instance health
 *   (`InMemoryDeploymentHealth`) instead, with a throttled warning.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CooldownPolicy } from '../routing/cooldown.ts';
import { type DeploymentHealth, InMemoryDeploymentHealth } from '../routing/deployment-health.ts';
import { pipelineReplies, type RedisConnection } from './redis-connection.ts';

/**
 * KEYS[1]: failures (sorted set), KEYS[2]: cooldown flag.
 * ARGV: allowed fails, cooldown ms, window ms, a unique member, channel, deployment id.
 * Answers the cooldown started, ms (0: none).
 */
const RECORD_FAILURE_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = math.max(1, tonumber(ARGV[1]))
local cooldown = tonumber(ARGV[2])
if count >= allowed and cooldown > 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', cooldown)
  redis.call('PUBLISH', ARGV[5], cooldown .. ' ' .. ARGV[6])
  return cooldown
end
return 0
`;

type RecordFailureCommand = (failuresKey: string, cooldownKey: string, allowedFails: number, cooldownMs: number, windowMs: number, member: string, channel: string, deploymentId: string) => Promise<number>;

const COMMAND = 'porticoRecordFailure';

export interface RedisDeploymentHealthOptions {
  policy: CooldownPolicy;
  /** Every configured deployment id: their cooldowns are re-read from Redis every `resyncMs`. */
  deploymentIds: readonly string[];
  /** Default 5,000 ms. */
  resyncMs?: number;
  now?: () => number;
}

export class RedisDeploymentHealth implements DeploymentHealth {
  readonly #redis: RedisConnection;
  readonly #policy: CooldownPolicy;
  #deploymentIds: readonly string[];
  readonly #now: () => number;
  readonly #record: RecordFailureCommand;
  /** Deployment id -> until when (local ms) it cools down, as Redis last said. */
  readonly #coolingUntil = new Map<string, number>();
  /** Failures that could not reach Redis. */
  readonly #fallback: InMemoryDeploymentHealth;
  readonly #channel: string;
  #subscriber: Redis | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** Use `RedisDeploymentHealth.start`: it subscribes and reads the current cooldowns. */
  constructor(redis: RedisConnection, options: RedisDeploymentHealthOptions) {
    this.#redis = redis;
    this.#policy = options.policy;
    this.#deploymentIds = [...options.deploymentIds];
    this.#now = options.now ?? Date.now;
    this.#fallback = new InMemoryDeploymentHealth(options.policy, this.#now);
    this.#channel = `${redis.prefix}cooldowns`;
    redis.client.defineCommand(COMMAND, { numberOfKeys: 2, lua: RECORD_FAILURE_LUA });
    const record = (redis.client as unknown as Record<string, RecordFailureCommand>)[COMMAND].bind(redis.client);
    this.#record = (...args) => redis.send(() => record(...args));
  }

  static async start(redis: RedisConnection, options: RedisDeploymentHealthOptions): Promise<RedisDeploymentHealth> {
    const health = new RedisDeploymentHealth(redis, options);
    await health.#listen(options.resyncMs ?? 5_000);
    return health;
  }

  recordSuccess(_deploymentId: string): void {
    // Failures age out of the window; a success does not erase them (as in memory).
  }

  trackDeployments(deploymentIds: readonly string[]): void {
    this.#deploymentIds = [...deploymentIds];
  }

  async recordFailure(deploymentId: string, deploymentCooldownMs?: number, classAllowedFails?: number): Promise<void> {
    const { windowMs } = this.#policy;
    const cooldownMs = deploymentCooldownMs ?? this.#policy.cooldownMs;
    const allowedFails = classAllowedFails ?? this.#policy.allowedFails;
    try {
      const started = await this.#record(
        this.#failuresKey(deploymentId),
        this.#cooldownKey(deploymentId),
        allowedFails,
        cooldownMs,
        windowMs,
        randomBytes(8).toString('hex'),
        this.#channel,
        deploymentId,
      );
      // Our own cooldown applies at once, before the published message comes back.
      if (Number(started) > 0) this.#coolingUntil.set(deploymentId, this.#now() + Number(started));
    } catch (error) {
      this.#redis.failedOpen('cooldown record', error);
      this.#fallback.recordFailure(deploymentId, deploymentCooldownMs, classAllowedFails);
    }
  }

  isCoolingDown(deploymentId: string): boolean {
    const until = this.#coolingUntil.get(deploymentId);
    return (until !== undefined && until > this.#now()) || this.#fallback.isCoolingDown(deploymentId);
  }

  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> {
    const cooling = new Set<string>();
    if (this.#coolingUntil.size === 0) {
      for (const id of this.#fallback.coolingDown(deploymentIds)) cooling.add(id);
      return cooling;
    }
    for (const id of deploymentIds) if (this.isCoolingDown(id)) cooling.add(id);
    return cooling;
  }

  /** From the local mirror of Redis (refreshed every `resyncMs` and by the channel), plus failures counted locally while Redis was away. */
  cooldownEnds(deploymentIds: readonly string[]): ReadonlyMap<string, number> {
    const ends = new Map(this.#fallback.cooldownEnds(deploymentIds));
    const now = this.#now();
    for (const id of deploymentIds) {
      const until = this.#coolingUntil.get(id);
      if (until !== undefined && until > now) ends.set(id, Math.max(until, ends.get(id) ?? 0));
    }
    return ends;
  }

  /** Re-reads every configured deployment's cooldown from Redis (one pipelined round trip). */
  async resync(): Promise<void> {
    if (this.#deploymentIds.length === 0 || !this.#redis.ready) return;
    try {
      const pipeline = this.#redis.client.pipeline();
      for (const id of this.#deploymentIds) pipeline.pttl(this.#cooldownKey(id));
      const replies = await this.#redis.send(() => pipelineReplies(pipeline));
      const now = this.#now();
      replies.forEach((ttl, i) => {
        const id = this.#deploymentIds[i];
        if (typeof ttl === 'number' && ttl > 0) this.#coolingUntil.set(id, now + ttl);
        else this.#coolingUntil.delete(id);
      });
    } catch (error) {
      this.#redis.failedOpen('cooldown resync', error);
    }
  }

  /** Stops listening (the connections are closed by their owner). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    // Not awaited: with Redis away it would wait for a reconnection; the connection's owner closes it anyway.
    if (subscriber) subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }

  async #listen(resyncMs: number): Promise<void> {
    const subscriber = this.#redis.subscriber(this.#channel, 'cooldown');
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const space = message.indexOf(' ');
      const cooldownMs = Number(message.slice(0, space));
      if (space > 0 && cooldownMs > 0) this.#coolingUntil.set(message.slice(space + 1), this.#now() + cooldownMs);
    });
    // After a reconnect, cooldowns published meanwhile were missed: read them.
    subscriber.on('ready', () => void this.resync());
    await this.resync();
    this.#timer = setInterval(() => void this.resync(), resyncMs);
    this.#timer.unref();
  }

  // The deployment id in braces is the keys' hash tag: the script's two keys share a slot, as
  // Redis Cluster requires of one script's keys.
  #failuresKey(deploymentId: string): string {
    return `${this.#redis.prefix}failures:{${deploymentId}}`;
  }

  #cooldownKey(deploymentId: string): string {
    return `${this.#redis.prefix}cooldown:{${deploymentId}}`;
  }
}
