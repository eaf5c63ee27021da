/**
 * The routing strategies' load of deployments, shared by every instance on one Redis (as
 * LiteLLM keeps it in its Redis cache when one is configured):
 * - in flight: one hash, `HINCRBY ±1` per request (a crashed instance's requests stay counted
 *   until the hash expires, an hour after its last change);
 * - latency: a list per deployment of its last answers' latencies (`LPUSH` + `LTRIM`);
 * - tokens and requests of the current minute: counters keyed by the minute (expire after two).
 * Reading the load of a group is one pipelined round trip. Fails open: when Redis cannot be
 * reached, this instance's own counts (`InMemoryRoutingStats`, always kept) are used.
 */
import { type DeploymentLoad, InMemoryRoutingStats, LATENCY_SAMPLES, type RoutingStats } from '../routing/routing-stats.ts';
import { pipelineReplies, type RedisConnection } from './redis-connection.ts';

const MINUTE_MS = 60_000;
const IN_FLIGHT_TTL_SECONDS = 3_600;

export class RedisRoutingStats implements RoutingStats {
  readonly #redis: RedisConnection;
  readonly #local: InMemoryRoutingStats;
  readonly #now: () => number;

  constructor(redis: RedisConnection, now: () => number = Date.now) {
    this.#redis = redis;
    this.#now = now;
    this.#local = new InMemoryRoutingStats(now);
  }

  #key(...parts: string[]): string {
    return `${this.#redis.prefix}routing:${parts.join(':')}`;
  }

  #minute(): string {
    return String(Math.floor(this.#now() / MINUTE_MS));
  }

  #send(what: string, run: () => Promise<unknown>): void {
    if (!this.#redis.ready) return;
    this.#redis.send(run).catch((error: unknown) => this.#redis.failedOpen(what, error));
  }

  async loadOf(deploymentIds: readonly string[]): Promise<ReadonlyMap<string, DeploymentLoad>> {
    if (!this.#redis.ready) return this.#local.loadOf(deploymentIds);
    const minute = this.#minute();
    const pipeline = this.#redis.client.pipeline();
    pipeline.hmget(this.#key('in-flight'), ...deploymentIds);
    for (const id of deploymentIds) {
      pipeline.lrange(this.#key('latency', id), 0, LATENCY_SAMPLES - 1);
      pipeline.mget(this.#key('tokens', id, minute), this.#key('requests', id, minute));
    }
    try {
      const results = await this.#redis.send(() => pipelineReplies(pipeline));
      const inFlight = results[0] as Array<string | null>;
      const loads = new Map<string, DeploymentLoad>();
      deploymentIds.forEach((id, index) => {
        const latencies = (results[1 + index * 2] as string[]).map(Number).filter(Number.isFinite);
        const [tokens, requests] = results[2 + index * 2] as Array<string | null>;
        const latencyMs = latencies.length === 0 ? undefined : latencies.reduce((sum, value) => sum + value, 0) / latencies.length;
        loads.set(id, {
          inFlight: Math.max(0, Number(inFlight[index] ?? 0)),
          ...(latencyMs !== undefined && { latencyMs }),
          tokensThisMinute: Number(tokens ?? 0),
          requestsThisMinute: Number(requests ?? 0),
        });
      });
      return loads;
    } catch (error) {
      this.#redis.failedOpen('routing load', error);
      return this.#local.loadOf(deploymentIds);
    }
  }

  started(deploymentId: string): void {
    this.#local.started(deploymentId);
    const requests = this.#key('requests', deploymentId, this.#minute());
    const inFlight = this.#key('in-flight');
    this.#send('routing load', () =>
      this.#redis.client.multi().hincrby(inFlight, deploymentId, 1).expire(inFlight, IN_FLIGHT_TTL_SECONDS).incr(requests).expire(requests, 120).exec(),
    );
  }

  finished(deploymentId: string, latencyMs?: number): void {
    this.#local.finished(deploymentId, latencyMs);
    const inFlight = this.#key('in-flight');
    const latency = this.#key('latency', deploymentId);
    this.#send('routing load', () => {
      const multi = this.#redis.client.multi().hincrby(inFlight, deploymentId, -1).expire(inFlight, IN_FLIGHT_TTL_SECONDS);
      if (latencyMs !== undefined) multi.lpush(latency, String(Math.round(latencyMs))).ltrim(latency, 0, LATENCY_SAMPLES - 1).expire(latency, IN_FLIGHT_TTL_SECONDS);
      return multi.exec();
    });
  }

  charge(deploymentId: string, tokens: number): void {
    if (tokens <= 0) return;
    this.#local.charge(deploymentId, tokens);
    const key = this.#key('tokens', deploymentId, this.#minute());
    this.#send('routing load', () => this.#redis.client.multi().incrby(key, Math.round(tokens)).expire(key, 120).exec());
  }
}
