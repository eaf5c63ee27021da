import type { PorticoMigration } from './migration.ts';

/**
 * Sessions of the web console (issue 13, `/ui`): the browser holds a random session token in an
 * HttpOnly cookie; the database holds only the token's SHA-256 (`id`), so a read of this table
 * signs nobody in. A virtual key's session names the key by its `key_hash` (what `api_keys`
 * stores already); a master key session stores an HMAC of the master key keyed by the session
 * token (`master_binding`), so a changed master key ends it and the table alone cannot be used to
 * test guesses of the master key. Rows live until `expires_at` (unix seconds) or sign-out; every
 * instance on one database sees the same sessions. Numbered 0013: 0010 is the spend ledger's, 0012 the key budgets'.
 */
export const migration0013ConsoleSessions: PorticoMigration = {
  name: '0013_console_sessions',
  async up(db) {
    await db.schema
      .createTable('console_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key_hash', 'text')
      .addColumn('master_binding', 'text')
      .addColumn('created_at', 'double precision', (c) => c.notNull())
      .addColumn('expires_at', 'double precision', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_sessions_expires_at').on('console_sessions').column('expires_at').execute();
  },
  async down(db) {
    await db.schema.dropTable('console_sessions').execute();
  },
};
