import type { PorticoMigration } from './migration.ts';

/**
 * LiteLLM's customers (end users, `/customer/new`): who a request is for, as its `user` field or
 * LiteLLM's end-user headers name them. A customer may be blocked, and may have a budget of its
 * own (`max_budget`, over `budget_duration` periods counted from its creation); its spend is the
 * spend ledger's rows for it (`spend_logs.end_user`, indexed by migration 0020), not a column.
 */
export const migration0021EndUsers: PorticoMigration = {
  name: '0021_end_users',
  async up(db) {
    await db.schema
      .createTable('end_users')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('alias', 'text')
      .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_budget', 'double precision')
      .addColumn('budget_duration', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('end_users').execute();
  },
};
