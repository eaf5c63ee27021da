import type { PorticoMigration } from './migration.ts';

/**
 * Batch cost reservations and enqueued-token quotas (issue 12). A batch reserves its estimated
 * cost at create: `reserved_spend` of its key, user and team grows by it, and a `batch_holds` row
 * remembers what was reserved (and from whom), so that its terminal state releases exactly that,
 * once, in the transaction that records the actual cost. The hold also carries the batch's
 * estimated input tokens on its deployment: held ones count against the deployment's
 * `batch_max_enqueued_tokens` (Azure's enqueued-token quota); `waiting` ones wait for room
 * (`portico_settings.batch.quota_exceeded: wait`), and so does their batch (`waiting_for_quota`).
 */
export const migration0015BatchReservations: PorticoMigration = {
  name: '0015_batch_reservations',
  async up(db) {
    for (const table of ['api_keys', 'users', 'teams']) {
      await db.schema.alterTable(table).addColumn('reserved_spend', 'double precision', (c) => c.notNull().defaultTo(0)).execute();
    }
    await db.schema.alterTable('batches').addColumn('waiting_for_quota', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('batch_holds')
      .addColumn('batch_id', 'text', (c) => c.primaryKey())
      .addColumn('key_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('team_id', 'text')
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('reserved_cost', 'double precision', (c) => c.notNull())
      .addColumn('input_tokens', 'bigint', (c) => c.notNull())
      .addColumn('output_tokens', 'bigint', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'double precision', (c) => c.notNull())
      .execute();
    // The quota sums a deployment's held tokens; the starter takes its waiting holds oldest first.
    await db.schema.createIndex('batch_holds_deployment').on('batch_holds').columns(['deployment_id', 'state', 'created_at']).execute();
  },
  async down(db) {
    await db.schema.dropIndex('batch_holds_deployment').execute();
    await db.schema.dropTable('batch_holds').execute();
    await db.schema.alterTable('batches').dropColumn('waiting_for_quota').execute();
    for (const table of ['teams', 'users', 'api_keys']) {
      await db.schema.alterTable(table).dropColumn('reserved_spend').execute();
    }
  },
};
