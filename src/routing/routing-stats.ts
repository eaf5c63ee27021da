/**
 * What the load-aware routing strategies read about deployments: requests in flight, recent
 * latency, and this minute's tokens and requests. In memory for one instance; with Redis
 * (`coordination/redis-routing-stats.ts`) shared by every instance, as LiteLLM keeps them in its
 * cache (Redis when configured). Only kept when a strategy other than simple-shuffle is chosen.
 */

export interface DeploymentLoad {
  /** Requests sent to it and not answered yet (a stream: not opened yet; counting one to its end would leak when it is never read). */
  readonly inFlight: number;
  /** Average of its recent answers' latency (time to the answer, or to a stream's first event); absent: no data yet. */
  readonly latencyMs?: number;
  /** Tokens and requests of the current minute. */
  readonly tokensThisMinute: number;
  readonly requestsThisMinute: number;
}

export interface RoutingStats {
  /** The load of each of `deploymentIds` (one round trip for a shared store). */
  loadOf(deploymentIds: readonly string[]): ReadonlyMap<string, DeploymentLoad> | Promise<ReadonlyMap<string, DeploymentLoad>>;
  /** A request was sent to the deployment. Never throws or waits. */
  started(deploymentId: string): void;
  /** It was answered (or failed): `latencyMs` only for a success. Never throws or waits. */
  finished(deploymentId: string, latencyMs?: number): void;
  /** Tokens an answer used, charged to the current minute. Never throws or waits. */
  charge(deploymentId: string, tokens: number): void;
}

/** Answers averaged for `latencyMs`. */
export const LATENCY_SAMPLES = 10;
const MINUTE_MS = 60_000;

interface LocalEntry {
  inFlight: number;
  latencies: number[];
  minute: number;
  tokens: number;
  requests: number;
}

export class InMemoryRoutingStats implements RoutingStats {
  readonly #entries = new Map<string, LocalEntry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #entry(deploymentId: string): LocalEntry {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    let entry = this.#entries.get(deploymentId);
    if (entry === undefined) {
      entry = { inFlight: 0, latencies: [], minute, tokens: 0, requests: 0 };
      this.#entries.set(deploymentId, entry);
    } else if (entry.minute !== minute) {
      entry.minute = minute;
      entry.tokens = 0;
      entry.requests = 0;
    }
    return entry;
  }

  loadOf(deploymentIds: readonly string[]): ReadonlyMap<string, DeploymentLoad> {
    const loads = new Map<string, DeploymentLoad>();
    for (const id of deploymentIds) {
      const entry = this.#entry(id);
      const latencyMs = entry.latencies.length === 0 ? undefined : entry.latencies.reduce((sum, value) => sum + value, 0) / entry.latencies.length;
      loads.set(id, { inFlight: entry.inFlight, ...(latencyMs !== undefined && { latencyMs }), tokensThisMinute: entry.tokens, requestsThisMinute: entry.requests });
    }
    return loads;
  }

  started(deploymentId: string): void {
    const entry = this.#entry(deploymentId);
    entry.inFlight += 1;
    entry.requests += 1;
  }

  finished(deploymentId: string, latencyMs?: number): void {
    const entry = this.#entry(deploymentId);
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (latencyMs !== undefined) {
      entry.latencies.push(latencyMs);
      if (entry.latencies.length > LATENCY_SAMPLES) entry.latencies.shift();
    }
  }

  charge(deploymentId: string, tokens: number): void {
    if (tokens > 0) this.#entry(deploymentId).tokens += tokens;
  }
}
