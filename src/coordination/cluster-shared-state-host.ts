/**
 * The shared state of several workers without Redis, primary side (the worker side and the why
 * are in `cluster-shared-state.ts`): the primary process, which serves no request, holds the one
 * `InMemoryRateLimiter`, `InMemoryDeploymentHealth`, `InMemoryRoutingStats` and parallel-request
 * slots of the whole Portico, the classes a single process uses, and answers the workers' calls
 * from them over node:cluster's IPC channel. It adds no logic of its own beyond telling every
 * worker what they must mirror (the cooldowns it starts and the keys deleted) and giving back
 * what a dead worker held (its requests in flight, its parallel-request slots).
 *
 * The host answers from memory, synchronously, so the primary's one event loop is no bottleneck
 * before the workers' own are (measured in the README's "Every core: workers").
 */
import cluster, { type Worker } from 'node:cluster';
import type { CooldownPolicy } from '../routing/cooldown.ts';
import { InMemoryDeploymentHealth } from '../routing/deployment-health.ts';
import { InMemoryRateLimiter } from '../routing/rate-limits/in-memory-rate-limiter.ts';
import { InMemoryRoutingStats } from '../routing/routing-stats.ts';
import { WorkerParallelSlots } from './worker-parallel-slots.ts';
import {
  type AnswerMessage,
  type BroadcastMessage,
  type CallMessage,
  type CallName,
  type NoticeMessage,
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

type CallHandlers = { [N in CallName]: (workerId: number, ...args: SharedStateCalls[N]['args']) => SharedStateCalls[N]['value'] | Promise<SharedStateCalls[N]['value']> };
type NoticeHandlers = { [N in NoticeName]: (workerId: number, ...args: SharedStateNotices[N]) => void };

export interface SharedStateHostOptions {
  policy: CooldownPolicy;
  /** Sends an event to every worker. */
  broadcast(event: SharedStateEvent): void;
  now?: () => number;
}

export class SharedStateHost {
  readonly limiter: InMemoryRateLimiter;
  readonly health: InMemoryDeploymentHealth;
  readonly stats: InMemoryRoutingStats;
  /** `max_parallel_requests` slots, by the worker that holds each. */
  readonly parallel = new WorkerParallelSlots();
  readonly #broadcast: (event: SharedStateEvent) => void;
  readonly #now: () => number;
  /** Worker -> deployment -> requests it started and has not finished: given back when it dies. */
  readonly #inFlight = new Map<number, Map<string, number>>();
  readonly #calls: CallHandlers;
  readonly #notices: NoticeHandlers;

  constructor(options: SharedStateHostOptions) {
    this.#now = options.now ?? Date.now;
    this.#broadcast = options.broadcast;
    this.limiter = new InMemoryRateLimiter(this.#now);
    this.health = new InMemoryDeploymentHealth(options.policy, this.#now);
    this.stats = new InMemoryRoutingStats(this.#now);
    this.#calls = {
      'limiter.tryAcquire': (_workerId, key, amount, limit, windowMs) => this.limiter.tryAcquire(key, amount, limit, windowMs),
      'limiter.record': async (_workerId, key, amount, windowMs) => (await this.limiter.record(key, amount, windowMs), null),
      'limiter.usage': (_workerId, key, windowMs) => this.limiter.usage(key, windowMs),
      'health.recordFailure': (_workerId, deploymentId, cooldownMs, allowedFails) => {
        const before = this.health.cooldownEnds([deploymentId]).get(deploymentId);
        this.health.recordFailure(deploymentId, cooldownMs ?? undefined, allowedFails ?? undefined);
        const until = this.health.cooldownEnds([deploymentId]).get(deploymentId);
        // Before the answer: the failing worker hears of the cooldown before its request goes on.
        if (until !== undefined && until !== before) this.#broadcast({ kind: 'cooldown', deploymentId, remainingMs: until - this.#now() });
        return null;
      },
      'health.cooldowns': (_workerId, deploymentIds) => [...this.health.cooldownEnds(deploymentIds)].map(([id, until]) => [id, until - this.#now()]),
      'stats.loadOf': (_workerId, deploymentIds) => [...this.stats.loadOf(deploymentIds)],
      'keys.evict': (_workerId, keyHashes) => (this.#broadcast({ kind: 'keys-evicted', keyHashes }), null),
      'batches.quotaReleased': (_workerId, deploymentIds) => (this.#broadcast({ kind: 'quota-released', deploymentIds }), null),
      'models.changed': (_workerId, words) => (this.#broadcast({ kind: 'models-changed', words }), null),
      'parallel.tryEnter': (workerId, slots, leaseId) => this.parallel.enter(workerId, slots, leaseId),
    };
    this.#notices = {
      'stats.started': (workerId, deploymentId) => {
        this.#countInFlight(workerId, deploymentId, 1);
        this.stats.started(deploymentId);
      },
      'stats.finished': (workerId, deploymentId, latencyMs) => {
        this.#countInFlight(workerId, deploymentId, -1);
        this.stats.finished(deploymentId, latencyMs ?? undefined);
      },
      'stats.charge': (_workerId, deploymentId, tokens) => this.stats.charge(deploymentId, tokens),
      'parallel.leave': (workerId, leaseId) => this.parallel.leave(workerId, leaseId),
    };
  }

  /**
   * Handles one message from worker `workerId`; `answer` sends to that worker. Messages that are
   * not shared-state ones (metrics, node:cluster's own) are ignored.
   */
  handle(workerId: number, message: unknown, answer: (message: AnswerMessage) => void): void {
    if (messageOfType<NoticeMessage>(message, SHARED_STATE_NOTICE)) {
      this.#notice(workerId, message.name, message.args);
      return;
    }
    if (!messageOfType<CallMessage>(message, SHARED_STATE_CALL)) return;
    const { id } = message;
    // Own keys only: a name such as `toString` is no call.
    const handler = Object.hasOwn(this.#calls, message.name) ? (this.#calls[message.name] as (workerId: number, ...args: unknown[]) => unknown) : undefined;
    if (handler === undefined || !Array.isArray(message.args)) {
      answer({ type: SHARED_STATE_ANSWER, id, error: `unknown call ${String(message.name)}` });
      return;
    }
    try {
      const value = handler(workerId, ...message.args);
      if (value instanceof Promise) {
        value.then(
          (settled: unknown) => answer({ type: SHARED_STATE_ANSWER, id, value: settled }),
          (error: unknown) => answer({ type: SHARED_STATE_ANSWER, id, error: String(error) }),
        );
      } else answer({ type: SHARED_STATE_ANSWER, id, value });
    } catch (error) {
      answer({ type: SHARED_STATE_ANSWER, id, error: String(error) });
    }
  }

  /** A worker died: the requests it had in flight will never finish, so they stop counting and give their slots back. */
  workerGone(workerId: number): void {
    this.parallel.workerGone(workerId);
    const inFlight = this.#inFlight.get(workerId);
    this.#inFlight.delete(workerId);
    for (const [deploymentId, count] of inFlight ?? []) for (let i = 0; i < count; i++) this.stats.finished(deploymentId);
  }

  #notice(workerId: number, name: NoticeName, args: unknown[]): void {
    if (!Array.isArray(args) || !Object.hasOwn(this.#notices, name)) return;
    (this.#notices[name] as (workerId: number, ...args: unknown[]) => void)(workerId, ...args);
  }

  #countInFlight(workerId: number, deploymentId: string, change: number): void {
    let counts = this.#inFlight.get(workerId);
    if (counts === undefined) this.#inFlight.set(workerId, (counts = new Map()));
    const count = Math.max(0, (counts.get(deploymentId) ?? 0) + change);
    if (count === 0) counts.delete(deploymentId);
    else counts.set(deploymentId, count);
  }
}

const ignoreSendError = (): void => undefined;

/** In the primary: serves the workers' shared state over node:cluster's IPC channel. */
export function serveClusterSharedState(policy: CooldownPolicy): SharedStateHost {
  const connectedWorkers = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  const host = new SharedStateHost({
    policy,
    broadcast: (event) => {
      const message: BroadcastMessage = { type: SHARED_STATE_BROADCAST, event };
      // A callback: a worker whose channel just closed reports there instead of emitting 'error'.
      for (const worker of connectedWorkers()) worker.send(message, undefined, ignoreSendError);
    },
  });
  cluster.on('message', (worker: Worker, message: unknown) => {
    host.handle(worker.id, message, (answer) => {
      if (worker.isConnected()) worker.send(answer, undefined, ignoreSendError);
    });
  });
  cluster.on('exit', (worker: Worker) => host.workerGone(worker.id));
  return host;
}
