/**
 * The shared state of several workers without Redis (`--num_workers N`, no `REDIS_URL`), worker
 * side: rate limits, parallel-request slots, cooldowns, routing statistics and key deletions
 * live once, in the primary process (`cluster-shared-state-host.ts`, the very `InMemory*` classes
 * one process uses), and every worker reaches them over node:cluster's IPC channel through the
 * adapters below, which implement the same interfaces as the in-memory and Redis ones. So a key's
 * `rpm_limit` of 3 lets 3 requests through in a minute whichever workers serve them, and its
 * `max_parallel_requests` of 2 lets 2 be in flight at once, as with Redis.
 *
 * What waits and what does not:
 * - Rate limits (`RateLimiter`, all async already): each call waits for the primary's answer,
 *   one IPC round trip; only keys and deployments that have limits make one (`LiveRateLimits`).
 * - Cooldowns: `DeploymentHealth`'s reads are synchronous on the router's hot path
 *   (`coolingDown` on every request; `cooldownEnds`, the admin view, can only be sync), so they
 *   answer from a local mirror, as `RedisDeploymentHealth` does: read whole when the worker starts,
 *   then kept by the primary's broadcast of every cooldown it starts. No interface change was
 *   needed. A failure waits for the primary's acknowledgement, which comes after the broadcast,
 *   so the worker's own next pick, and any request any worker receives after this one's answer,
 *   already skips the deployment (IPC is ordered, and node:cluster hands new connections to the
 *   workers over the same channel in its round-robin scheduling, the default but on Windows).
 *   A failed request costs an upstream round trip anyway; a success is not sent at all (it
 *   changes nothing in the in-memory health).
 * - Parallel requests (`max_parallel_requests`): taking a request's slots waits, like a rate
 *   limit; giving them back when the response ends is told without waiting. The primary knows
 *   which worker holds which slots and frees a dead worker's.
 * - Routing statistics: `loadOf` waits (it may return a promise); `started` / `finished` /
 *   `charge` are told without waiting.
 * - Key deletions: `publish` waits until the primary has told every worker (itself included),
 *   so a deleted key is refused by all of them from the delete's answer on.
 *
 * When the primary does not answer (a call waits at most `timeoutMs`) or is gone (the channel
 * closed), the worker fails closed: calls reject with `PrimaryProcessUnavailableError` (503), so
 * no request passes unlimited. A failure that cannot be recorded and a key deletion that cannot
 * be told are let go (the request keeps its upstream error; the other workers' key caches drop the
 * key within their TTL). A worker whose primary is gone then exits: node:cluster ends a worker
 * whose channel closes unexpectedly, and without the primary there is nothing to serve for.
 * An answer that arrives after its call timed out has an id nobody waits for and is ignored.
 */
import type { KeyEvictionChannel } from '../auth/key-service.ts';
import type { NoticeChannel } from '../spec/notice-channel.ts';
import type { PorticoConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { DeploymentHealth } from '../routing/deployment-health.ts';
import type { ParallelRequestLimiter, ParallelSlot } from '../routing/rate-limits/parallel-requests.ts';
import type { RateLimitDecision, RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import type { DeploymentLoad, RoutingStats } from '../routing/routing-stats.ts';
import { PrimaryProcessUnavailableError } from '../spec/errors.ts';
import {
  type AnswerMessage,
  type BroadcastMessage,
  type CallName,
  type ClusterChannel,
  type NoticeName,
  SHARED_STATE_ANSWER,
  SHARED_STATE_BROADCAST,
  SHARED_STATE_CALL,
  SHARED_STATE_NOTICE,
  type SharedStateCalls,
  type SharedStateEvent,
  type SharedStateNotices,
  messageOfType,
} from './cluster-protocol.ts';
import { LiveRateLimits } from './live-rate-limits.ts';
import type { SharedState } from './shared-state.ts';

/** How long a worker waits for the primary's answer: it answers from memory in microseconds, so this only bounds a primary that is stuck. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** This worker's end of the channel to the primary: `process`. */
export function workerChannel(): ClusterChannel {
  return {
    send(message, onSent) {
      if (!process.connected || process.send === undefined) return onSent(new Error('the IPC channel is closed'));
      // With a callback, a send on a channel that just closed reports to it instead of throwing
      // or emitting 'error' on `process`.
      process.send(message, undefined, undefined, onSent);
    },
    onMessage(listener) {
      process.on('message', listener);
      return () => void process.off('message', listener);
    },
    onClose(listener) {
      process.once('disconnect', listener);
      return () => void process.off('disconnect', listener);
    },
    get connected() {
      return process.connected;
    },
  };
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const ignoreSendError = (): void => undefined;

/** Calls with ids and a timeout, notices, and the primary's broadcasts, over one channel. */
export class SharedStateClient {
  readonly #channel: ClusterChannel;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<number, Waiting>();
  readonly #listeners: Array<(event: SharedStateEvent) => void> = [];
  readonly #unlisten: Array<() => void>;
  #nextId = 1;
  #closedBecause: string | undefined;

  constructor(channel: ClusterChannel, options: { timeoutMs?: number } = {}) {
    this.#channel = channel;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#unlisten = [channel.onMessage((message) => this.#receive(message)), channel.onClose(() => this.#fail('the primary process is gone'))];
    if (!channel.connected) this.#fail('the primary process is gone');
  }

  /** Whether calls can still be answered (false once the primary is gone or this was closed). */
  get open(): boolean {
    return this.#closedBecause === undefined;
  }

  /** Sends a call and waits for its answer; rejects with `PrimaryProcessUnavailableError` after `timeoutMs` or when the channel closes. */
  call<N extends CallName>(name: N, ...args: SharedStateCalls[N]['args']): Promise<SharedStateCalls[N]['value']> {
    if (this.#closedBecause !== undefined) return Promise.reject(unavailable(name, this.#closedBecause));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(unavailable(name, `no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      timer.unref();
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#channel.send({ type: SHARED_STATE_CALL, id, name, args }, (error) => {
        if (error) this.#settle(id, undefined, unavailable(name, 'the message could not be sent'));
      });
    });
  }

  /** Tells the primary without waiting; dropped when the channel is closed (counters only). */
  notify<N extends NoticeName>(name: N, ...args: SharedStateNotices[N]): void {
    if (this.#closedBecause !== undefined) return;
    this.#channel.send({ type: SHARED_STATE_NOTICE, name, args }, ignoreSendError);
  }

  onEvent(listener: (event: SharedStateEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Stops listening; calls still waiting reject. */
  close(): void {
    for (const unlisten of this.#unlisten) unlisten();
    this.#fail('the shared state was closed');
  }

  #receive(message: unknown): void {
    if (messageOfType<AnswerMessage>(message, SHARED_STATE_ANSWER)) {
      this.#settle(message.id, message.value, message.error === undefined ? undefined : new Error(`the primary process failed the call: ${message.error}`));
    } else if (messageOfType<BroadcastMessage>(message, SHARED_STATE_BROADCAST)) {
      for (const listener of this.#listeners) listener(message.event);
    }
  }

  /** An id nobody waits for (answered after its timeout, or never asked) is ignored. */
  #settle(id: number, value: unknown, error: Error | undefined): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    if (error) waiting.reject(error);
    else waiting.resolve(value);
  }

  #fail(reason: string): void {
    this.#closedBecause ??= reason;
    for (const [id, waiting] of this.#waiting) {
      this.#waiting.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new PrimaryProcessUnavailableError(undefined, { cause: new Error(reason) }));
    }
  }
}

function unavailable(name: string, reason: string): PrimaryProcessUnavailableError {
  return new PrimaryProcessUnavailableError(undefined, { cause: new Error(`${name}: ${reason}`) });
}

export class ClusterRateLimiter implements RateLimiter {
  readonly #client: SharedStateClient;

  constructor(client: SharedStateClient) {
    this.#client = client;
  }

  tryAcquire(key: string, amount: number, limit: number, windowMs: number): Promise<RateLimitDecision> {
    return this.#client.call('limiter.tryAcquire', key, amount, limit, windowMs);
  }

  async record(key: string, amount: number, windowMs: number): Promise<void> {
    await this.#client.call('limiter.record', key, amount, windowMs);
  }

  usage(key: string, windowMs: number): Promise<number> {
    return this.#client.call('limiter.usage', key, windowMs);
  }
}

const NONE_COOLING: ReadonlySet<string> = new Set<string>();

export class ClusterDeploymentHealth implements DeploymentHealth {
  readonly #client: SharedStateClient;
  readonly #now: () => number;
  /** Deployment id -> until when (this process's clock) it cools down, as the primary last said. */
  readonly #coolingUntil = new Map<string, number>();

  /** Use `ClusterDeploymentHealth.start`: it reads the cooldowns already running. */
  constructor(client: SharedStateClient, now: () => number = Date.now) {
    this.#client = client;
    this.#now = now;
    client.onEvent((event) => {
      if (event.kind === 'cooldown') this.#cool(event.deploymentId, event.remainingMs);
    });
  }

  static async start(client: SharedStateClient, deploymentIds: readonly string[], now: () => number = Date.now): Promise<ClusterDeploymentHealth> {
    const health = new ClusterDeploymentHealth(client, now);
    // A worker started (or restarted) while a cooldown runs must skip that deployment too.
    for (const [id, remainingMs] of await client.call('health.cooldowns', [...deploymentIds])) health.#cool(id, remainingMs);
    return health;
  }

  recordSuccess(_deploymentId: string): void {
    // Not sent: a success changes nothing in the primary's InMemoryDeploymentHealth (failures age
    // out of the window, as LiteLLM counts them), and telling it would cost the primary one
    // message per request served. RedisDeploymentHealth does the same.
  }

  async recordFailure(deploymentId: string, cooldownMs?: number, allowedFails?: number): Promise<void> {
    try {
      await this.#client.call('health.recordFailure', deploymentId, cooldownMs ?? null, allowedFails ?? null);
    } catch {
      // Not counted: the request keeps its upstream error rather than a 503 about bookkeeping.
    }
  }

  isCoolingDown(deploymentId: string): boolean {
    const until = this.#coolingUntil.get(deploymentId);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#coolingUntil.delete(deploymentId);
    return false;
  }

  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> {
    // Every request asks: the usual answer (none) allocates nothing.
    if (this.#coolingUntil.size === 0) return NONE_COOLING;
    let cooling: Set<string> | undefined;
    for (const id of deploymentIds) if (this.isCoolingDown(id)) (cooling ??= new Set()).add(id);
    return cooling ?? NONE_COOLING;
  }

  cooldownEnds(deploymentIds: readonly string[]): ReadonlyMap<string, number> {
    const ends = new Map<string, number>();
    for (const id of deploymentIds) if (this.isCoolingDown(id)) ends.set(id, this.#coolingUntil.get(id)!);
    return ends;
  }

  #cool(deploymentId: string, remainingMs: number): void {
    if (remainingMs > 0) this.#coolingUntil.set(deploymentId, Math.max(this.#now() + remainingMs, this.#coolingUntil.get(deploymentId) ?? 0));
  }
}

export class ClusterRoutingStats implements RoutingStats {
  readonly #client: SharedStateClient;

  constructor(client: SharedStateClient) {
    this.#client = client;
  }

  async loadOf(deploymentIds: readonly string[]): Promise<ReadonlyMap<string, DeploymentLoad>> {
    return new Map(await this.#client.call('stats.loadOf', [...deploymentIds]));
  }

  started(deploymentId: string): void {
    this.#client.notify('stats.started', deploymentId);
  }

  finished(deploymentId: string, latencyMs?: number): void {
    this.#client.notify('stats.finished', deploymentId, latencyMs ?? null);
  }

  charge(deploymentId: string, tokens: number): void {
    if (tokens > 0) this.#client.notify('stats.charge', deploymentId, tokens);
  }
}

/**
 * A notice told to every worker through the primary (workers without Redis): `publish` asks the
 * primary (`method`) to tell them all, and resolves once it has. Never throws: a lost notice
 * leaves what it only hurries (a key cache's TTL, the quota starters' poll) as the bound.
 */
class ClusterNotices implements NoticeChannel {
  readonly #client: SharedStateClient;
  readonly #method: 'keys.evict' | 'batches.quotaReleased' | 'models.changed';
  readonly #wordsOf: (event: SharedStateEvent) => readonly string[] | undefined;

  constructor(client: SharedStateClient, method: 'keys.evict' | 'batches.quotaReleased' | 'models.changed', wordsOf: (event: SharedStateEvent) => readonly string[] | undefined) {
    this.#client = client;
    this.#method = method;
    this.#wordsOf = wordsOf;
  }

  async publish(words: readonly string[]): Promise<void> {
    if (words.length === 0) return;
    try {
      await this.#client.call(this.#method, [...words]);
    } catch {
      // As documented above.
    }
  }

  subscribe(listener: (words: readonly string[]) => void): void {
    this.#client.onEvent((event) => {
      const words = this.#wordsOf(event);
      if (words !== undefined) listener(words);
    });
  }
}

/** Key evictions (`KeyEvictionChannel`): the other workers drop the keys from their caches at once. */
export class ClusterKeyEvictions extends ClusterNotices implements KeyEvictionChannel {
  constructor(client: SharedStateClient) {
    super(client, 'keys.evict', (event) => (event.kind === 'keys-evicted' ? event.keyHashes : undefined));
  }
}

/**
 * `max_parallel_requests` of keys, users and teams held by the primary: a request's slots are
 * taken by one call before it goes upstream (fails closed, like the rate limits) and given back
 * by a notice when its response ends (`LiveRateLimits.release` does not wait for it; the channel
 * is ordered, so this worker's next call is counted after it). The primary frees a dead worker's
 * slots itself, so they need no expiry.
 */
export class ClusterParallelRequests implements ParallelRequestLimiter {
  readonly #client: SharedStateClient;

  constructor(client: SharedStateClient) {
    this.#client = client;
  }

  async tryEnter(slots: readonly ParallelSlot[], leaseId: string): Promise<number> {
    if (slots.length === 0) return -1;
    try {
      return await this.#client.call('parallel.tryEnter', slots.map(({ key, limit }) => ({ key, limit })), leaseId);
    } catch (error) {
      // Not answered in time: the primary may still take the slots when it reads the call, and
      // the request will not give them back (it is refused). Ordered after the call, this frees them.
      this.#client.notify('parallel.leave', leaseId);
      throw error;
    }
  }

  async leave(_keys: readonly string[], leaseId: string): Promise<void> {
    this.#client.notify('parallel.leave', leaseId);
  }
}

/** Released batch quota: every worker's quota starter looks at once. */
export class ClusterQuotaReleases extends ClusterNotices {
  constructor(client: SharedStateClient) {
    super(client, 'batches.quotaReleased', (event) => (event.kind === 'quota-released' ? event.deploymentIds : undefined));
  }
}

/** Stored models changed (`server/stored-models.ts`): the other workers reload them at once. */
export class ClusterModelChanges extends ClusterNotices {
  constructor(client: SharedStateClient) {
    super(client, 'models.changed', (event) => (event.kind === 'models-changed' ? event.words : undefined));
  }
}

export interface ClusterSharedStateOptions {
  config: PorticoConfig;
  logger: Logger;
  /** Default: this worker's `process` (`workerChannel()`). */
  channel?: ClusterChannel;
  timeoutMs?: number;
}

/** A worker's `SharedState` held by the primary; resolves once the running cooldowns are read. */
export async function connectClusterSharedState(options: ClusterSharedStateOptions): Promise<SharedState> {
  const { config, logger } = options;
  const client = new SharedStateClient(options.channel ?? workerChannel(), { timeoutMs: options.timeoutMs });
  const limiter = new ClusterRateLimiter(client);
  const health = await ClusterDeploymentHealth.start(
    client,
    config.deployments.map((deployment) => deployment.id),
  );
  logger.info('workers: rate limits, parallel requests and cooldowns are shared through the primary process (no Redis)');
  return {
    kind: 'cluster',
    limiter,
    health,
    // max_parallel_requests of keys, users and teams: slots shared by every worker.
    limits: new LiveRateLimits(limiter, config.deployments, new ClusterParallelRequests(client)),
    routingStats: new ClusterRoutingStats(client),
    keyEvictions: new ClusterKeyEvictions(client),
    quotaReleases: new ClusterQuotaReleases(client),
    modelChanges: new ClusterModelChanges(client),
    async close() {
      client.close();
    },
  };
}
