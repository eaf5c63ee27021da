import type { PorticoMigration } from './migration.ts';

/**
 * A batch input file's token estimate (JSON, `spec/token-estimate.ts`), counted at upload while
 * its lines are validated: a batch create reserves its cost without reading the file again.
 * Null on older rows (their creates count from the store, as before).
 */
export const migration0016FileTokenEstimates: PorticoMigration = {
  name: '0016_file_token_estimates',
  async up(db) {
    await db.schema.alterTable('files').addColumn('token_estimate', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('files').dropColumn('token_estimate').execute();
  },
};
