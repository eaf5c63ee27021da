/**
 * The webhook outbox's rows (`webhook_deliveries`, `webhook_attempts`, migration 0011).
 *
 * - `enqueue` writes one row per endpoint; the same event written again (a finalisation retried
 *   after a crash) keeps the row there is: (event id, endpoint) is unique.
 * - `claimDue` leases due rows one by one with a conditional UPDATE (the row is still pending,
 *   due, and its lease free or expired), so of several instances exactly one delivers a row at a
 *   time, on SQLite and PostgreSQL alike; a crashed instance's lease runs out and another retries.
 * - `recordAttempt` keeps the attempt and moves the row on (delivered, failed, or due again),
 *   only while the caller still holds its lease.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.ts';
import { nowSeconds } from './row-mapping.ts';
import type { DatabaseSchema, WebhookAttemptsTable, WebhookDeliveriesTable } from './schema.ts';

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointUrl: string;
  payload: string;
  createdAt: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  finishedAt: number | null;
}

export interface WebhookAttempt {
  attempt: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface NewWebhookEvent {
  eventId: string;
  eventType: string;
  payload: string;
  createdAt: number;
}

export interface AttemptOutcome extends Omit<WebhookAttempt, 'attempt'> {
  /** When the attempt ended (Unix seconds). */
  endedAt: number;
  /** What the row becomes: delivered, failed for good, or pending again at `nextAttemptAt`. */
  next: { status: 'delivered' } | { status: 'failed' } | { status: 'pending'; nextAttemptAt: number };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    endpointUrl: row.endpoint_url,
    payload: row.payload,
    createdAt: Number(row.created_at),
    status: row.status as WebhookDeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

function toAttempt(row: Selectable<WebhookAttemptsTable>): WebhookAttempt {
  return {
    attempt: Number(row.attempt),
    startedAt: Number(row.started_at),
    durationMs: Number(row.duration_ms),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    error: row.error,
  };
}

export class WebhookStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** One row per endpoint, due now; an event already written for an endpoint stays as it is. */
  async enqueue(event: NewWebhookEvent, endpointUrls: readonly string[]): Promise<void> {
    await WebhookStore.enqueueIn(this.#db.kysely, event, endpointUrls);
  }

  /** `enqueue` inside the caller's transaction (the change the event tells of is written with it). */
  static async enqueueIn(db: Kysely<DatabaseSchema>, event: NewWebhookEvent, endpointUrls: readonly string[]): Promise<void> {
    if (endpointUrls.length === 0) return;
    await db
      .insertInto('webhook_deliveries')
      .values(
        endpointUrls.map((url) => ({
          id: `whd_${randomBytes(12).toString('hex')}`,
          event_id: event.eventId,
          event_type: event.eventType,
          endpoint_url: url,
          payload: event.payload,
          created_at: event.createdAt,
          next_attempt_at: event.createdAt,
        })),
      )
      .onConflict((oc) => oc.columns(['event_id', 'endpoint_url']).doNothing())
      .execute();
  }

  /** Leases up to `limit` due rows for `owner`; answers those it got. */
  async claimDue(owner: string, limit: number, leaseMs: number, now: number = nowSeconds()): Promise<WebhookDelivery[]> {
    const candidates = await this.#db.kysely
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    const claimed: WebhookDelivery[] = [];
    for (const { id } of candidates) {
      const row = await this.#db.kysely
        .updateTable('webhook_deliveries')
        .set({ lease_owner: owner, lease_expires_at: now + leaseMs / 1000 })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(toDelivery(row));
    }
    return claimed;
  }

  /** Records an attempt of a row `owner` leased, and moves the row on; false if the lease was lost. */
  async recordAttempt(delivery: Pick<WebhookDelivery, 'id' | 'attempts'>, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    const attempt = delivery.attempts + 1;
    return this.#db.kysely.transaction().execute(async (trx) => {
      const next = outcome.next;
      const updated = await trx
        .updateTable('webhook_deliveries')
        .set({
          attempts: attempt,
          status: next.status,
          next_attempt_at: next.status === 'pending' ? next.nextAttemptAt : outcome.startedAt,
          lease_owner: null,
          lease_expires_at: null,
          last_status_code: outcome.statusCode,
          last_error: outcome.error,
          finished_at: next.status === 'pending' ? null : outcome.endedAt,
        })
        .where('id', '=', delivery.id)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      await trx
        .insertInto('webhook_attempts')
        .values({ delivery_id: delivery.id, attempt, started_at: outcome.startedAt, duration_ms: Math.round(outcome.durationMs), status_code: outcome.statusCode, error: outcome.error })
        .execute();
      return true;
    });
  }

  /** Newest first; `before` is the `id` of the last row of the previous page. */
  async list(filter: { status?: WebhookDeliveryStatus; eventType?: string; limit: number; before?: string }): Promise<WebhookDelivery[]> {
    let query = this.#db.kysely.selectFrom('webhook_deliveries').selectAll();
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
    if (filter.before) {
      const anchor = await this.#db.kysely.selectFrom('webhook_deliveries').select(['created_at', 'id']).where('id', '=', filter.before).executeTakeFirst();
      if (anchor) {
        const at = Number(anchor.created_at);
        query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', anchor.id)])]));
      }
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toDelivery);
  }

  async get(id: string): Promise<WebhookDelivery | undefined> {
    const row = await this.#db.kysely.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  async attemptsOf(id: string): Promise<WebhookAttempt[]> {
    const rows = await this.#db.kysely.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', id).orderBy('attempt').execute();
    return rows.map(toAttempt);
  }
}
