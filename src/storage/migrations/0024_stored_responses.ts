import type { PorticoMigration } from './migration.ts';

/**
 * Responses answered through a provider's chat (the Responses bridge: Anthropic, Gemini, Bedrock,
 * ...), kept by the gateway as OpenAI keeps its own (`store`, on by default), so that
 * `previous_response_id`, `GET /v1/responses/{id}` and its input items work on every provider:
 * the response as answered, the input items it was sent, and the response it continued. Kept 30
 * days, as OpenAI keeps them.
 */
export const migration0024StoredResponses: PorticoMigration = {
  name: '0024_stored_responses',
  async up(db) {
    await db.schema
      .createTable('stored_responses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('previous_response_id', 'text')
      // JSON: the Response object, and the request's input as items.
      .addColumn('response', 'text', (c) => c.notNull())
      .addColumn('input_items', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('stored_responses_created').on('stored_responses').column('created_at').execute();
  },
  async down(db) {
    await db.schema.dropTable('stored_responses').execute();
  },
};
