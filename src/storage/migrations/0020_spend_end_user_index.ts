import type { PorticoMigration } from './migration.ts';

/**
 * An index on a spend row's end user, for `litellm_settings.max_end_user_budget`: each request for
 * an end user sums that user's spend (`server/end-user-budgets.ts`, kept for seconds).
 */
export const migration0020SpendEndUserIndex: PorticoMigration = {
  name: '0020_spend_end_user_index',
  async up(db) {
    await db.schema.createIndex('spend_logs_end_user').on('spend_logs').columns(['end_user']).execute();
  },
  async down(db) {
    await db.schema.dropIndex('spend_logs_end_user').execute();
  },
};
