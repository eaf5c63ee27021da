import type { PorticoMigration } from './migration.ts';

/**
 * A batch's row is written before its provider batch is created (issue 9): `creating` is 1 from
 * then until the create is confirmed (or settled by the reconciler after a crash), 0 after. The
 * creating request holds the row's lease (`lease_owner`, `lease_expires_at`) meanwhile, so an
 * intent whose lease ran out was left by a request or instance that died. Clients never see a
 * row while it is creating.
 */
export const migration0008BatchIntents: PorticoMigration = {
  name: '0008_batch_intents',
  async up(db) {
    await db.schema.alterTable('batches').addColumn('creating', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('batches_creating_lease').on('batches').columns(['creating', 'lease_expires_at']).execute();
  },
  async down(db) {
    await db.schema.dropIndex('batches_creating_lease').execute();
    await db.schema.alterTable('batches').dropColumn('creating').execute();
  },
};
