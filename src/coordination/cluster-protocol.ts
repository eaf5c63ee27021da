/**
 * The messages between the workers of one Portico (`--num_workers`, no Redis) and the primary
 * process that holds their shared state: what `cluster-shared-state.ts` (worker side) sends and
 * `cluster-shared-state-host.ts` (primary side) answers. They travel on node:cluster's IPC
 * channel next to the metrics messages of `observability/cluster-metrics.ts`, in the same style:
 * plain objects whose `type` starts with `portico:`, so each listener picks its own and ignores
 * the rest (node:cluster's own messages have no such `type`).
 *
 * - a call: `{type: CALL, id, name, args}` answered by `{type: ANSWER, id, value}` or
 *   `{type: ANSWER, id, error}`; ids are per worker, and an answer whose id is not waited for
 *   (it came after its timeout) is ignored;
 * - a notice: `{type: NOTICE, name, args}`, never answered (counters that must not slow a request);
 * - a broadcast: `{type: BROADCAST, event}`, from the primary to every worker.
 *
 * The channel serialises as JSON: `undefined` becomes `null` in arrays, maps travel as entry
 * lists.
 */
import type { ParallelSlot } from '../routing/rate-limits/parallel-requests.ts';
import type { RateLimitDecision } from '../routing/rate-limits/rate-limiter.ts';
import type { DeploymentLoad } from '../routing/routing-stats.ts';

export const SHARED_STATE_CALL = 'portico:shared-state-call';
export const SHARED_STATE_ANSWER = 'portico:shared-state-answer';
export const SHARED_STATE_NOTICE = 'portico:shared-state-notice';
export const SHARED_STATE_BROADCAST = 'portico:shared-state-broadcast';

/** Requests a worker waits for, by name: their arguments and the value answered. */
export interface SharedStateCalls {
  'limiter.tryAcquire': { args: [key: string, amount: number, limit: number, windowMs: number]; value: RateLimitDecision };
  'limiter.record': { args: [key: string, amount: number, windowMs: number]; value: null };
  'limiter.usage': { args: [key: string, windowMs: number]; value: number };
  /** Answered once the primary has counted it and, when it started a cooldown, told every worker. */
  'health.recordFailure': { args: [deploymentId: string, cooldownMs: number | null, allowedFails: number | null]; value: null };
  /** The deployments among these cooling down, with the ms each has left. */
  'health.cooldowns': { args: [deploymentIds: string[]]; value: Array<[deploymentId: string, remainingMs: number]> };
  'stats.loadOf': { args: [deploymentIds: string[]]; value: Array<[deploymentId: string, load: DeploymentLoad]> };
  /** Answered once every worker has been told. */
  'keys.evict': { args: [keyHashes: string[]]; value: null };
  /** Batch holds released on these deployments; answered once every worker has been told. */
  'batches.quotaReleased': { args: [deploymentIds: string[]]; value: null };
  /** Models added, changed or deleted through the API (`server/stored-models.ts`); answered once every worker has been told. */
  'models.changed': { args: [words: string[]]; value: null };
  /** A slot of each counter for the lease, or none: -1 when taken, else the index of the first full counter. */
  'parallel.tryEnter': { args: [slots: ParallelSlot[], leaseId: string]; value: number };
}

/** What a worker tells without waiting. */
export interface SharedStateNotices {
  'stats.started': [deploymentId: string];
  'stats.finished': [deploymentId: string, latencyMs: number | null];
  'stats.charge': [deploymentId: string, tokens: number];
  /** The lease's request ended: its slots are free (the primary knows which counters it holds). */
  'parallel.leave': [leaseId: string];
}

/** What the primary tells every worker. */
export type SharedStateEvent =
  | { kind: 'cooldown'; deploymentId: string; remainingMs: number }
  | { kind: 'keys-evicted'; keyHashes: string[] }
  | { kind: 'quota-released'; deploymentIds: string[] }
  | { kind: 'models-changed'; words: string[] };

export type CallName = keyof SharedStateCalls;
export type NoticeName = keyof SharedStateNotices;

export interface CallMessage {
  type: typeof SHARED_STATE_CALL;
  id: number;
  name: CallName;
  args: unknown[];
}

export interface AnswerMessage {
  type: typeof SHARED_STATE_ANSWER;
  id: number;
  value?: unknown;
  error?: string;
}

export interface NoticeMessage {
  type: typeof SHARED_STATE_NOTICE;
  name: NoticeName;
  args: unknown[];
}

export interface BroadcastMessage {
  type: typeof SHARED_STATE_BROADCAST;
  event: SharedStateEvent;
}

/**
 * One end of the IPC channel, so both sides can be tested over a fake one. In a worker it is
 * `process` (`workerChannel()` in `cluster-shared-state.ts`).
 */
export interface ClusterChannel {
  /** Sends a message; `onSent` gets an error when it could not be sent (the channel closed). */
  send(message: CallMessage | NoticeMessage, onSent: (error: Error | null) => void): void;
  /** Every message that arrives, whatever its type; answers a function that stops listening. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Called once when the channel closes (the primary is gone). */
  onClose(listener: () => void): () => void;
  readonly connected: boolean;
}

export function messageOfType<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
