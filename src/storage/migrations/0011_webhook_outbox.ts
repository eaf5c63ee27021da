import type { PorticoMigration } from './migration.ts';

/**
 * The webhook outbox (issue 12): one row per event and endpoint, written when the event happens
 * (idempotently: an event id is derived from what happened, so writing it twice keeps one row),
 * delivered at least once by whichever instance leases it, retried with backoff until delivered
 * or given up; every attempt is kept in `webhook_attempts`. Numbered 0011: 0009 and 0010 are
 * taken by the spend ledger's tables.
 */
export const migration0011WebhookOutbox: PorticoMigration = {
  name: '0011_webhook_outbox',
  async up(db) {
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('endpoint_url', 'text', (c) => c.notNull())
      /** The event as sent (JSON text): the same bytes on every attempt. */
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'double precision', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'double precision', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'double precision')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('finished_at', 'double precision')
      .addUniqueConstraint('webhook_deliveries_event_endpoint', ['event_id', 'endpoint_url'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema
      .createTable('webhook_attempts')
      .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'double precision', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('webhook_attempts').execute();
    await db.schema.dropTable('webhook_deliveries').execute();
  },
};
