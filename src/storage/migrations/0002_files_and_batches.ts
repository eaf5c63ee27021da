import type { PorticoMigration } from './migration.ts';

/**
 * Gateway files, their provider copies, and gateway batches (issue 3).
 *
 * `files.batch_id -> batches.id` and `batches.input_file_id -> files.id` reference each other.
 * Both are real foreign keys on both dialects; only how the first one is declared differs:
 * - SQLite checks foreign keys when rows change, not when tables are created, so `files` may name
 *   `batches` before it exists (and SQLite has no `ALTER TABLE ... ADD CONSTRAINT`);
 * - PostgreSQL needs the referenced table first, so the constraint is added after `batches`.
 *
 * Files are never hard-deleted while a batch references them (OpenAI keeps a batch's file ids
 * after the files are deleted, and a deleted file id must still work as a list cursor): deleting
 * a file leaves a tombstone row (`state = 'deleted'`, `deleted_at` set) that every read treats as
 * gone. `file_copies` rows are removed outright.
 */
export const migration0002FilesAndBatches: PorticoMigration = {
  name: '0002_files_and_batches',
  async up(db, dialect) {
    await db.schema
      .createTable('files')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('filename', 'text', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_details', 'text')
      .addColumn('checksum', 'text')
      .addColumn('blob_key', 'text')
      .addColumn('line_count', 'integer')
      // The endpoint every line of a batch input file targets (`/v1/chat/completions`, ...).
      .addColumn('batch_endpoint', 'text')
      .addColumn('model_groups', 'text')
      .addColumn('batch_id', 'text', (c) => (dialect === 'sqlite' ? c.references('batches.id') : c))
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('deleted_at', 'bigint')
      .execute();
    await db.schema.createIndex('files_owner_created_id').on('files').columns(['owner', 'created_at', 'id']).execute();
    await db.schema.createIndex('files_created_id').on('files').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('files_state_expires').on('files').columns(['state', 'expires_at']).execute();
    await db.schema.createIndex('files_batch').on('files').column('batch_id').execute();

    await db.schema
      .createTable('file_copies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
      .addColumn('deployment_id', 'text', (c) => c.notNull())
      .addColumn('provider_file_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('next_attempt_at', 'double precision')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('file_copies_deployment_provider_file', ['deployment_id', 'provider_file_id'])
      .addUniqueConstraint('file_copies_file_deployment', ['file_id', 'deployment_id'])
      .execute();
    await db.schema
      .createIndex('file_copies_state_next_attempt')
      .on('file_copies')
      .columns(['state', 'next_attempt_at'])
      .execute();

    await db.schema
      .createTable('batches')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('completion_window', 'text', (c) => c.notNull())
      .addColumn('model_group', 'text', (c) => c.notNull())
      .addColumn('deployment_id', 'text')
      .addColumn('execution', 'text', (c) => c.notNull())
      .addColumn('provider_batch_id', 'text')
      .addColumn('input_file_id', 'text', (c) => c.notNull().references('files.id'))
      .addColumn('output_file_id', 'text', (c) => c.references('files.id'))
      .addColumn('error_file_id', 'text', (c) => c.references('files.id'))
      .addColumn('provider_output_file_id', 'text')
      .addColumn('provider_error_file_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('raw_status', 'text')
      .addColumn('errors', 'text')
      .addColumn('metadata', 'text')
      .addColumn('output_expires_after_seconds', 'bigint')
      .addColumn('request_total', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('request_completed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('request_failed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('usage', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('in_progress_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('finalizing_at', 'bigint')
      .addColumn('completed_at', 'bigint')
      .addColumn('failed_at', 'bigint')
      .addColumn('expired_at', 'bigint')
      .addColumn('cancelling_at', 'bigint')
      .addColumn('cancelled_at', 'bigint')
      .addColumn('last_synced_at', 'double precision')
      .addColumn('next_sync_at', 'double precision')
      .addColumn('sync_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'double precision')
      .addColumn('cost', 'double precision')
      .addColumn('cost_recorded_at', 'bigint')
      // One registration per batch: a file can be the output (or error) file of one batch only.
      .addUniqueConstraint('batches_output_file', ['output_file_id'])
      .addUniqueConstraint('batches_error_file', ['error_file_id'])
      .execute();
    await db.schema
      .createIndex('batches_owner_created_id')
      .on('batches')
      .columns(['owner', 'created_at desc', 'id desc'])
      .execute();
    await db.schema.createIndex('batches_created_id').on('batches').columns(['created_at desc', 'id desc']).execute();
    await db.schema.createIndex('batches_status_next_sync').on('batches').columns(['status', 'next_sync_at']).execute();
    await db.schema.createIndex('batches_input_file').on('batches').column('input_file_id').execute();

    if (dialect === 'postgres') {
      await db.schema
        .alterTable('files')
        .addForeignKeyConstraint('files_batch_id_fkey', ['batch_id'], 'batches', ['id'])
        .execute();
    }
  },
  async down(db, dialect) {
    await db.schema.dropTable('file_copies').execute();
    if (dialect === 'postgres') {
      await db.schema.alterTable('files').dropConstraint('files_batch_id_fkey').execute();
    } else {
      // SQLite's DROP TABLE deletes the rows first, checking foreign keys: unlink files from
      // batches so that `batches` can go, then `files`.
      await db.updateTable('files').set({ batch_id: null }).execute();
    }
    await db.schema.dropTable('batches').execute();
    await db.schema.dropTable('files').execute();
  },
};
