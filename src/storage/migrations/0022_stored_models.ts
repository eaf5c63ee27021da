import type { PorticoMigration } from './migration.ts';

/**
 * Models added through the API (`/model/new`, with `general_settings.store_model_in_db`), as
 * LiteLLM keeps them in `LiteLLM_ProxyModelTable`: served beside `model_list` by every instance
 * (`routing/stored-models.ts`). `litellm_params` holds provider keys, so it is stored encrypted
 * (`storage/stored-model-cipher.ts`); the name and `model_info` are not secret and stay readable.
 * `updated_at` is in milliseconds: instances notice a change by it and the row count.
 */
export const migration0022StoredModels: PorticoMigration = {
  name: '0022_stored_models',
  async up(db) {
    await db.schema
      .createTable('stored_models')
      .addColumn('model_id', 'text', (c) => c.primaryKey())
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('litellm_params', 'text', (c) => c.notNull())
      .addColumn('model_info', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('stored_models').execute();
  },
};
