import type { PorticoMigration } from './migration.ts';

/**
 * A spend row's tags (LiteLLM's `request_tags`): the request's own (its `tags`, `metadata.tags`,
 * `x-litellm-tags`) and those of the deployment that answered (`litellm_params.tags`), as a JSON
 * array of text; null when it has none. `GET /spend/tags` sums spend by tag.
 */
export const migration0018SpendRequestTags: PorticoMigration = {
  name: '0018_spend_request_tags',
  async up(db) {
    await db.schema.alterTable('spend_logs').addColumn('request_tags', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('spend_logs').dropColumn('request_tags').execute();
  },
};
