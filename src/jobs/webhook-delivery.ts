/**
 * Delivers the webhook outbox: a periodic job on every instance that leases due deliveries
 * (`WebhookStore.claimDue`: one instance per delivery at a time), POSTs each event signed for its
 * endpoint, and records the attempt. A 2xx answer delivers it; anything else (another status, a
 * timeout, a refused connection) schedules a retry with exponential backoff and jitter, until
 * the event is older than `giveUpAfterMs` and is marked failed. Redirects are not followed, and
 * at most a few KiB of an answer are read.
 */
import { Agent, request } from 'undici';
import type { WebhookSettings } from '../config/types.ts';
import { PeriodicJob } from './periodic-job.ts';
import type { Logger } from '../observability/logger.ts';
import { nowSeconds } from '../storage/row-mapping.ts';
import type { AttemptOutcome, WebhookDelivery, WebhookStore } from '../storage/webhook-store.ts';
import { signedHeaders } from '../webhooks/webhook-signing.ts';
import { slackBudgetMessage } from '../webhooks/slack-budget-message.ts';

/** Deliveries in flight at once on one instance (a slow receiver holds its own slots only). */
const CONCURRENCY = 16;
/** Of an answer, this much is read (and kept in the attempt's error on failure). */
const MAX_ANSWER_BYTES = 4096;

export interface WebhookDeliveryDeps {
  store: WebhookStore;
  settings: WebhookSettings;
  logger: Logger;
  instanceId: string;
  /** Jitter factor source, [0, 1) (tests pin it). */
  random?: () => number;
  /** Now, in Unix seconds (tests move it on: a receiver down for hours in a second). */
  clock?: () => number;
  /** Deliveries in flight at once (default 16). */
  concurrency?: number;
}

/** The wait before the retry after `attempts` failed attempts: doubling, capped, +-20% jitter. */
export function retryDelayMs(attempts: number, settings: Pick<WebhookSettings, 'retryFirstMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const base = Math.min(settings.retryMaxMs, settings.retryFirstMs * 2 ** Math.max(0, attempts - 1));
  return base * (0.8 + 0.4 * random());
}

export function createWebhookDelivery(deps: WebhookDeliveryDeps): WebhookDeliveryJob {
  const owner = `${deps.instanceId}:webhooks`;
  const concurrency = deps.concurrency ?? CONCURRENCY;
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000, connect: { timeout: deps.settings.timeoutMs } });
  const secrets = new Map(deps.settings.endpoints.map((endpoint) => [endpoint.url, endpoint.secret]));
  const slackEndpoints = new Set(deps.settings.endpoints.filter((endpoint) => endpoint.format === 'slack').map((endpoint) => endpoint.url));
  // Longer than an attempt can take (its timeout) with room to record it.
  const leaseMs = deps.settings.timeoutMs * 2 + 5_000;
  const clock = deps.clock ?? nowSeconds;
  const inFlight = new Set<Promise<void>>();
  // A pass leases as many due deliveries as there are free slots and starts them without waiting:
  // a receiver that takes its full timeout does not hold back the others; each one that ends
  // frees its slot and asks for the next pass.
  const job = new PeriodicJob('webhook-delivery', deps.settings.pollIntervalMs, deps.logger, async () => {
    const free = concurrency - inFlight.size;
    if (secrets.size === 0 || free <= 0) return false;
    const due = await deps.store.claimDue(owner, free, leaseMs, clock());
    for (const delivery of due) {
      const sending: Promise<void> = deliver(delivery)
        .catch((failure: unknown) => deps.logger.error({ delivery_id: delivery.id, err: failure instanceof Error ? failure.message : String(failure) }, 'webhook delivery failed unexpectedly; retried when its lease runs out'))
        .finally(() => {
          inFlight.delete(sending);
          job.wake();
        });
      inFlight.add(sending);
    }
    // Every free slot filled: there may be more due at once.
    return due.length === free;
  });

  async function deliver(delivery: WebhookDelivery): Promise<void> {
    const secret = secrets.get(delivery.endpointUrl);
    const startedAt = clock();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    if (secret === undefined) {
      // The endpoint left the config: its events wait (they go out if it comes back).
      error = 'the endpoint is no longer configured';
    } else {
      try {
        // A Slack webhook (LiteLLM's budget alerts) takes a message, unsigned; the others the signed event.
        const slack = slackEndpoints.has(delivery.endpointUrl);
        const body = slack ? slackBudgetMessage(delivery.payload) : delivery.payload;
        const answer = await request(delivery.endpointUrl, {
          method: 'POST',
          headers: slack ? { 'content-type': 'application/json' } : signedHeaders(secret, delivery.eventId, delivery.payload),
          body,
          dispatcher: agent,
          signal: AbortSignal.timeout(deps.settings.timeoutMs),
          headersTimeout: deps.settings.timeoutMs,
          bodyTimeout: deps.settings.timeoutMs,
        });
        statusCode = answer.statusCode;
        const text = await readSome(answer.body);
        if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}${text ? `: ${text.slice(0, 500)}` : ''}`;
      } catch (failure) {
        error = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
      }
    }
    const durationMs = performance.now() - started;
    const endedAt = clock();
    const attempts = delivery.attempts + 1;
    let next: AttemptOutcome['next'];
    if (error === null) next = { status: 'delivered' };
    else {
      const nextAttemptAt = endedAt + retryDelayMs(attempts, deps.settings, deps.random) / 1000;
      next = nextAttemptAt - delivery.createdAt > deps.settings.giveUpAfterMs / 1000 ? { status: 'failed' } : { status: 'pending', nextAttemptAt };
    }
    const recorded = await deps.store.recordAttempt(delivery, owner, { startedAt, endedAt, durationMs, statusCode, error, next }).catch((failure: unknown) => {
      deps.logger.warn({ delivery_id: delivery.id, err: failure instanceof Error ? failure.message : String(failure) }, 'webhook: recording an attempt failed; it is retried when its lease runs out');
      return false;
    });
    if (!recorded) return;
    // A Slack webhook's URL is its secret: logged by its host only.
    const endpoint = slackEndpoints.has(delivery.endpointUrl) ? `slack webhook at ${new URL(delivery.endpointUrl).host}` : delivery.endpointUrl;
    const fields = { delivery_id: delivery.id, event_id: delivery.eventId, event_type: delivery.eventType, endpoint, attempt: attempts, status_code: statusCode };
    if (next.status === 'delivered') deps.logger.info(fields, 'webhook delivered');
    else if (next.status === 'failed') deps.logger.error({ ...fields, err: error }, 'webhook given up: not delivered within give_up_after_hours');
    else deps.logger.warn({ ...fields, err: error, retry_at: new Date(next.nextAttemptAt * 1000).toISOString() }, 'webhook delivery failed; will retry');
  }

  return {
    name: job.name,
    start: () => job.start(),
    async runOnce() {
      await job.runOnce();
      await Promise.all(inFlight);
    },
    wake: () => job.wake(),
    async stop() {
      // Deliveries in flight end (each within its timeout) and are recorded.
      await job.stop();
      await Promise.all(inFlight);
      await agent.close().catch(() => undefined);
    },
  };
}

export interface WebhookDeliveryJob {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  /** One pass now, and waits for the deliveries it started (tests). */
  runOnce(): Promise<void>;
  /** A pass as soon as possible (an event was just written). */
  wake(): void;
}

/** Reads at most MAX_ANSWER_BYTES of a body as text, then drops the rest. */
async function readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const parts: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body) {
      parts.push(chunk);
      bytes += chunk.length;
      if (bytes >= MAX_ANSWER_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}
