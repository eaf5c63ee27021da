/**
 * Where the state that several instances must agree on lives: rate-limit counters and deployment
 * cooldowns. `REDIS_URL` set: in Redis, shared by every instance using it (and the same
 * `PORTICO_REDIS_PREFIX`); unset: in this process's memory, or, in one of several workers
 * (`--num_workers`), in the primary process's memory, reached over the cluster's IPC channel
 * (`cluster-shared-state.ts`).
 *
 * What is shared where (the README's "Running several instances" explains it to users):
 * - PostgreSQL: keys, files, batches, batch work items, and the leases on them.
 * - Redis: rpm/tpm counters (per key, user, team, per deployment, the batch engine's share),
 *   requests in flight per key, user and team (`max_parallel_requests`), cooldowns,
 *   key deletions told to every instance's key cache, and batch quota released told to every
 *   instance's quota starter (pub/sub).
 * - File bytes: in PostgreSQL too with `portico_settings.files.blob_store: database`, in a bucket
 *   or container with `s3` / `azure_blob`; else in the blob directory (`storage_dir`), which
 *   instances must then share as one volume.
 */
import type { PorticoConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { FAILURE_WINDOW_MS, type CooldownPolicy } from '../routing/cooldown.ts';
import { type DeploymentHealth, InMemoryDeploymentHealth } from '../routing/deployment-health.ts';
import { InMemoryRateLimiter } from '../routing/rate-limits/in-memory-rate-limiter.ts';
import { InMemoryRoutingStats, type RoutingStats } from '../routing/routing-stats.ts';
import type { RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import { LiveRateLimits } from './live-rate-limits.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { KeyEvictionChannel } from '../auth/key-service.ts';
import type { NoticeChannel } from '../spec/notice-channel.ts';

export interface SharedStateOptions {
  config: PorticoConfig;
  logger: Logger;
  /** `REDIS_URL`; unset or empty: in memory. */
  redisUrl?: string;
  /** `PORTICO_REDIS_PREFIX`; default `portico:`. */
  redisPrefix?: string;
  /** One of several workers: without Redis, the state is the primary's (`cluster-shared-state.ts`). */
  clusterWorker?: boolean;
}

export interface SharedState {
  readonly kind: 'redis' | 'memory' | 'cluster';
  /** rpm/tpm counters (live traffic and the batch engine's budgets). */
  readonly limiter: RateLimiter;
  /** Deployment failures and cooldowns, for the router. */
  readonly health: DeploymentHealth;
  /** The live-traffic limits over `limiter`: the router's admission, the key limits, the token meter. */
  readonly limits: LiveRateLimits;
  /** Deployments' load for the routing strategies (`router_settings.routing_strategy`). */
  readonly routingStats: RoutingStats;
  /** Key deletions told to every instance and worker (Redis, or the primary for workers without it; one process needs no telling). */
  readonly keyEvictions?: KeyEvictionChannel;
  /**
   * Deployments whose batch holds were released (words: deployment ids), told to every instance's
   * quota starter so that a batch waiting for the quota starts at once (Redis, or the primary for
   * workers without it; one process wakes its own starter directly).
   */
  readonly quotaReleases?: NoticeChannel;
  /** Models added, changed or deleted through the API (`server/stored-models.ts`), told to every instance and worker (Redis, or the primary for workers without it; one process needs no telling). */
  readonly modelChanges?: NoticeChannel;
  /** The Redis connection, when there is one. */
  readonly redis?: RedisConnection;
  /** Stops listening and closes the Redis connections. */
  close(): Promise<void>;
}

export function cooldownPolicyOf(config: PorticoConfig): CooldownPolicy {
  return { allowedFails: config.router.allowedFails, cooldownMs: config.router.cooldownMs, windowMs: FAILURE_WINDOW_MS };
}

export async function createSharedState(options: SharedStateOptions): Promise<SharedState> {
  const { config, logger } = options;
  const url = options.redisUrl?.trim();
  if (!url && options.clusterWorker) {
    // Loaded only in workers: one process does not carry the IPC adapters.
    const { connectClusterSharedState } = await import('./cluster-shared-state.ts');
    return connectClusterSharedState({ config, logger });
  }
  if (!url) {
    const limiter = new InMemoryRateLimiter();
    return {
      kind: 'memory',
      limiter,
      health: new InMemoryDeploymentHealth(cooldownPolicyOf(config)),
      limits: new LiveRateLimits(limiter, config.deployments),
      routingStats: new InMemoryRoutingStats(),
      close: async () => undefined,
    };
  }
  // Loaded only when Redis is configured: a single instance does not carry the Redis client.
  const [{ connectRedis, isRedisUrl, redactUrl }, { RedisDeploymentHealth }, { RedisRateLimiter }, { RedisRoutingStats }, { RedisKeyEvictions }, { RedisParallelRequests }, { RedisNotices }] = await Promise.all([
    import('./redis-connection.ts'),
    import('./redis-deployment-health.ts'),
    import('./redis-rate-limiter.ts'),
    import('./redis-routing-stats.ts'),
    import('./redis-key-evictions.ts'),
    import('./redis-parallel-requests.ts'),
    import('./redis-notices.ts'),
  ]);
  if (!isRedisUrl(url)) throw new Error(`REDIS_URL must start with redis:// or rediss:// (got "${redactUrl(url)}")`);
  const redis = await connectRedis(url, { prefix: options.redisPrefix || undefined, logger });
  const limiter = new RedisRateLimiter(redis);
  const health = await RedisDeploymentHealth.start(redis, {
    policy: cooldownPolicyOf(config),
    deploymentIds: config.deployments.map((deployment) => deployment.id),
  });
  const keyEvictions = new RedisKeyEvictions(redis);
  const quotaReleases = new RedisNotices(redis, 'batches:quota-released', 'batch quota release');
  const modelChanges = new RedisNotices(redis, 'models:changed', 'stored model change');
  logger.info({ redis: redactUrl(url), prefix: redis.prefix, connected: redis.ready }, 'redis: rate limits and cooldowns are shared across instances');
  return {
    kind: 'redis',
    limiter,
    health,
    // max_parallel_requests of keys, users and teams: slots shared by every instance.
    limits: new LiveRateLimits(limiter, config.deployments, new RedisParallelRequests(redis)),
    routingStats: new RedisRoutingStats(redis),
    keyEvictions,
    quotaReleases,
    modelChanges,
    redis,
    async close() {
      keyEvictions.close();
      quotaReleases.close();
      modelChanges.close();
      await health.close();
      await redis.close();
    },
  };
}
