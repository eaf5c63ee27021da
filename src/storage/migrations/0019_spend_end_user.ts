import type { PorticoMigration } from './migration.ts';

/**
 * A spend row's end user (LiteLLM's `end_user`): who the request was for, as the client named
 * them (`general_settings.user_header_name`'s header, `x-litellm-end-user-id`, or OpenAI's `user`);
 * null when it named nobody.
 */
export const migration0019SpendEndUser: PorticoMigration = {
  name: '0019_spend_end_user',
  async up(db) {
    await db.schema.alterTable('spend_logs').addColumn('end_user', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('spend_logs').dropColumn('end_user').execute();
  },
};
