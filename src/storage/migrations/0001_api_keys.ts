import type { PorticoMigration } from './migration.ts';

/** Virtual keys (LiteLLM's `/key/generate`): only the hash of the key is stored. */
export const migration0001ApiKeys: PorticoMigration = {
  name: '0001_api_keys',
  async up(db) {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_alias', 'text')
      .addColumn('user_id', 'text')
      .addColumn('team_id', 'text')
      .addColumn('models', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('spend', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('api_keys').execute();
  },
};
