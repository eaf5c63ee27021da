/**
 * Where events enter the webhook outbox: one row per endpoint that wants the event (its type,
 * and its team when the endpoint is a team's), written to the database before anything is sent
 * (delivery is `src/jobs/webhook-delivery.ts`'s job), so an event survives a restart and is
 * delivered at least once.
 *
 *   // the budget code: written now, in a transaction of its own
 *   await outbox.emit('budget.exceeded', { id: 'team_1', max_budget: 100, spend: 100.2 }, { owner: 'team:team_1', occurrence: String(periodStart) })
 *   // ... or in the caller's transaction, with the change it tells of
 *   const alongside = outbox.alongside('budget.soft_exceeded', data, options); await alongside?.write(trx); ... alongside?.committed?.()
 *   // batch finalisation: in the transaction that stores the terminal status (BatchStore.storeTerminal)
 *   outbox.batchEnded(batch, 'completed')
 *   // budgets crossed: in the transaction that adds the spend (SpendLogStore, BatchStore.recordCostOnce)
 *   outbox.budgetsCrossed(crossings)
 */
import type { WebhookEventType, WebhookSettings } from '../config/types.ts';
import type { BatchStatus } from '../spec/openai-objects.ts';
import { nowSeconds } from '../storage/row-mapping.ts';
import { WebhookStore } from '../storage/webhook-store.ts';
import type { BudgetCrossing, BudgetCrossingEvents } from '../storage/budget-crossings.ts';
import type { WrittenAlongside } from '../storage/written-alongside.ts';
import { budgetEventOf } from './budget-events.ts';
import { webhookEvent, type WebhookEvent } from './webhook-events.ts';

const BATCH_EVENTS: Partial<Record<BatchStatus, WebhookEventType>> = {
  completed: 'batch.completed',
  failed: 'batch.failed',
  expired: 'batch.expired',
  cancelled: 'batch.cancelled',
};

export interface EmitOptions {
  /**
   * Whose event it is, as objects are owned (`team:<id>`, `user:<id>`, `key:<id>`, `master`;
   * `ownerOf` in src/spec/principal.ts): an endpoint with a `team_id` gets only its team's events.
   * Absent: only endpoints without a team get it.
   */
  owner?: string;
  /**
   * Tells apart events of one type about one subject that may happen more than once (a budget
   * exceeded again in its next period: the period's start). The event id is derived from type,
   * subject (`data.id`) and occurrence, so writing the same event twice keeps one.
   */
  occurrence?: string;
}

export class WebhookOutbox {
  readonly #store: WebhookStore;
  readonly #settings: WebhookSettings;
  readonly #clock: () => number;
  readonly #written: Array<() => void> = [];

  constructor(store: WebhookStore, settings: WebhookSettings, clock: () => number = nowSeconds) {
    this.#store = store;
    this.#settings = settings;
    this.#clock = clock;
  }

  /** Whether any endpoint is configured (no endpoint: nothing is written). */
  get enabled(): boolean {
    return this.#settings.endpoints.length > 0;
  }

  /** Writes the event for every endpoint that wants it, now; answers it (undefined when none does). */
  async emit(type: WebhookEventType, data: WebhookEvent['data'], options: EmitOptions = {}): Promise<WebhookEvent | undefined> {
    const prepared = this.#prepare(type, data, options);
    if (!prepared) return undefined;
    await this.#store.enqueue(prepared.row, prepared.urls);
    this.#notify();
    return prepared.event;
  }

  /**
   * The event for every endpoint that wants it, to be written in the caller's transaction with
   * the change it tells of (`write`), then `committed()` after the commit. Undefined when no
   * endpoint wants it.
   */
  alongside(type: WebhookEventType, data: WebhookEvent['data'], options: EmitOptions = {}): WrittenAlongside | undefined {
    const prepared = this.#prepare(type, data, options);
    if (!prepared) return undefined;
    return {
      write: (trx) => WebhookStore.enqueueIn(trx, prepared.row, prepared.urls),
      committed: () => this.#notify(),
    };
  }

  /** `listener` is called after an event was written (this instance's delivery job sends it at once). */
  onWritten(listener: () => void): void {
    this.#written.push(listener);
  }

  /**
   * A batch's `batch.completed`, `.failed`, `.expired` or `.cancelled`, to be written with its
   * terminal status (`BatchStore.storeTerminal`); undefined for another status or when no
   * endpoint wants it.
   */
  batchEnded(batch: { id: string; owner: string }, status: BatchStatus): WrittenAlongside | undefined {
    const type = BATCH_EVENTS[status];
    return type === undefined ? undefined : this.alongside(type, { id: batch.id }, { owner: batch.owner });
  }

  /**
   * For the stores that add spend (`SpendLogStore`, `BatchStore`): the events of the budgets
   * crossed, to be written in the transaction that adds the spend; undefined when no endpoint
   * wants a budget event (the stores then skip the work).
   */
  get budgetEvents(): BudgetCrossingEvents | undefined {
    const wanted = this.#settings.endpoints.some((endpoint) => endpoint.events.includes('budget.soft_exceeded') || endpoint.events.includes('budget.exceeded'));
    return wanted ? (crossings) => this.budgetsCrossed(crossings) : undefined;
  }

  /** The `budget.soft_exceeded` / `budget.exceeded` events of `crossings`; undefined when no endpoint wants any. */
  budgetsCrossed(crossings: readonly BudgetCrossing[]): WrittenAlongside | undefined {
    const prepared = crossings.flatMap((crossing) => {
      const event = budgetEventOf(crossing);
      return this.#prepare(event.type, event.data, { owner: event.owner, occurrence: event.occurrence }) ?? [];
    });
    if (prepared.length === 0) return undefined;
    return {
      write: async (trx) => {
        for (const { row, urls } of prepared) await WebhookStore.enqueueIn(trx, row, urls);
      },
      committed: () => this.#notify(),
    };
  }

  #prepare(type: WebhookEventType, data: WebhookEvent['data'], options: EmitOptions) {
    const urls = this.#settings.endpoints
      .filter((endpoint) => endpoint.events.includes(type) && (endpoint.teamId === null || options.owner === `team:${endpoint.teamId}`))
      .map((endpoint) => endpoint.url);
    if (urls.length === 0) return undefined;
    const now = this.#clock();
    const event = webhookEvent(type, data, now, options.occurrence);
    return { event, urls, row: { eventId: event.id, eventType: type, payload: JSON.stringify(event), createdAt: now } };
  }

  #notify(): void {
    for (const listener of this.#written) listener();
  }
}
