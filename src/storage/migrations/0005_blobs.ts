import type { PorticoMigration } from './migration.ts';

/**
 * File bytes kept in the database (`DatabaseBlobStore`), so that instances share only the
 * database and need no shared volume. A blob is one `blobs` row (its length and sha256) and its
 * bytes split into `blob_chunks` rows, numbered from 0, so that no single value is large and a
 * reader can page through them. `completed_at` stays null while an upload is still writing its
 * chunks. Only the binary column type differs between the dialects.
 */
export const migration0005Blobs: PorticoMigration = {
  name: '0005_blobs',
  async up(db, dialect) {
    await db.schema
      .createTable('blobs')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // Null while the bytes are being written: readers see only completed blobs.
      .addColumn('completed_at', 'bigint')
      .execute();
    await db.schema
      .createTable('blob_chunks')
      .addColumn('blob_key', 'text', (c) => c.notNull().references('blobs.key').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('blob_chunks_pk', ['blob_key', 'seq'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('blob_chunks').execute();
    await db.schema.dropTable('blobs').execute();
  },
};
