import type { PorticoMigration } from './migration.ts';

/**
 * The spend ledger (issue 12): one row per live request and one per batch, written by group
 * commit (`spend/spend-ledger.ts`). Times are unix seconds as `double precision` (sub-second
 * latency matters in a ledger). `job_leases`: named leases of singleton background jobs (the
 * ledger's retention sweep), so that one instance at a time runs them.
 */
export const migration0009SpendLogs: PorticoMigration = {
  name: '0009_spend_logs',
  async up(db) {
    await db.schema
      .createTable('spend_logs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('call_type', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('team_id', 'text')
      .addColumn('model_group', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text')
      .addColumn('provider', 'text')
      .addColumn('model', 'text')
      .addColumn('prompt_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('completion_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('cached_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('total_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('spend', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('latency_ms', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('started_at', 'double precision', (c) => c.notNull())
      .addColumn('ended_at', 'double precision', (c) => c.notNull())
      .addColumn('batch_id', 'text')
      .addColumn('request_count', 'bigint', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('spend_logs_started_at').on('spend_logs').columns(['started_at', 'id']).execute();
    await db.schema.createIndex('spend_logs_key').on('spend_logs').columns(['key_id', 'started_at']).execute();
    await db.schema.createIndex('spend_logs_team').on('spend_logs').columns(['team_id', 'started_at']).execute();
    await db.schema.createIndex('spend_logs_user').on('spend_logs').columns(['user_id', 'started_at']).execute();
    await db.schema.createIndex('spend_logs_batch').on('spend_logs').column('batch_id').unique().execute();
    await db.schema
      .createTable('job_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'double precision', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('job_leases').execute();
    await db.schema.dropTable('spend_logs').execute();
  },
};
