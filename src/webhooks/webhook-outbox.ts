/**
 * Where events enter the webhook outbox: one row per endpoint that wants the event type,
 * written to the database before anything is sent (delivery is `webhook-delivery.ts`'s job), so
 * an event survives a restart and is delivered at least once.
 *
 *   await outbox.emit('budget.exceeded', { id: keyId, budget: 100 }, periodStart)  // the budget code
 *   await outbox.batchEnded(batch, 'completed')                                    // batch finalisation
 */
import type { WebhookEventType, WebhookSettings } from '../config/types.ts';
import type { BatchStatus } from '../spec/openai-objects.ts';
import { nowSeconds } from '../storage/row-mapping.ts';
import type { WebhookStore } from '../storage/webhook-store.ts';
import { webhookEvent, type WebhookEvent } from './webhook-events.ts';

const BATCH_EVENTS: Partial<Record<BatchStatus, WebhookEventType>> = {
  completed: 'batch.completed',
  failed: 'batch.failed',
  expired: 'batch.expired',
  cancelled: 'batch.cancelled',
};

export class WebhookOutbox {
  readonly #store: WebhookStore;
  readonly #settings: WebhookSettings;
  readonly #written: Array<() => void> = [];

  constructor(store: WebhookStore, settings: WebhookSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /** Whether any endpoint is configured (no endpoint: nothing is written). */
  get enabled(): boolean {
    return this.#settings.endpoints.length > 0;
  }

  /**
   * Writes the event for every endpoint that wants its type; answers it (undefined when no
   * endpoint wants it). `occurrence` tells apart events of one type about one subject that may
   * happen more than once (a budget exceeded again in its next period).
   */
  async emit(type: WebhookEventType, data: WebhookEvent['data'], occurrence = ''): Promise<WebhookEvent | undefined> {
    const urls = this.#settings.endpoints.filter((endpoint) => endpoint.events.includes(type)).map((endpoint) => endpoint.url);
    if (urls.length === 0) return undefined;
    const event = webhookEvent(type, data, nowSeconds(), occurrence);
    await this.#store.enqueue({ eventId: event.id, eventType: type, payload: JSON.stringify(event), createdAt: nowSeconds() }, urls);
    for (const listener of this.#written) listener();
    return event;
  }

  /** `listener` is called after an event was written (this instance's delivery job sends it at once). */
  onWritten(listener: () => void): void {
    this.#written.push(listener);
  }

  /** A batch reached a terminal status: `batch.completed`, `.failed`, `.expired` or `.cancelled`. */
  async batchEnded(batchId: string, status: BatchStatus): Promise<void> {
    const type = BATCH_EVENTS[status];
    if (type) await this.emit(type, { id: batchId });
  }
}
