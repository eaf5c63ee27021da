import type { PorticoMigration } from './migration.ts';

/**
 * OpenAI's Uploads API (`/v1/uploads`): a file sent in parts of up to 64 MB, up to 8 GB in all,
 * assembled into a file when the client completes it. An upload names its file and declares its
 * size; each part's bytes are a blob of the file blob store until the upload completes (the file
 * is then a blob of its own), is cancelled, or expires an hour after its creation.
 */
export const migration0023Uploads: PorticoMigration = {
  name: '0023_uploads',
  async up(db) {
    await db.schema
      .createTable('uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('filename', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('mime_type', 'text', (c) => c.notNull())
      // `pending`, `completed`, `cancelled` or `expired`.
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      // The `expires_after` of the file it becomes, seconds; null: the purpose's default.
      .addColumn('file_expires_after', 'bigint')
      .addColumn('file_id', 'text')
      .execute();
    // The janitor finds the pending uploads whose hour has passed.
    await db.schema.createIndex('uploads_status_expiry').on('uploads').columns(['status', 'expires_at']).execute();
    await db.schema
      .createTable('upload_parts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('upload_id', 'text', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'double precision', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('upload_parts_upload').on('upload_parts').column('upload_id').execute();
  },
  async down(db) {
    await db.schema.dropTable('upload_parts').execute();
    await db.schema.dropTable('uploads').execute();
  },
};
