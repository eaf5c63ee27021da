import type { PorticoMigration } from './migration.ts';

/**
 * What a staged batch's provider asked Portico to keep for each part between looks (JSON array
 * of text or null, one per provider batch id in `provider_batch_id`): a refused create's backoff
 * and the provider's last refusal (`providers/batching/queued-creates.ts`), so that a restarted
 * instance, or another one, continues it. Null when no part keeps anything.
 */
export const migration0017BatchPartStates: PorticoMigration = {
  name: '0017_batch_part_states',
  async up(db) {
    await db.schema.alterTable('batches').addColumn('part_states', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('batches').dropColumn('part_states').execute();
  },
};
