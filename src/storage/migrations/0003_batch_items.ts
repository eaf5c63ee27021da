import type { PorticoMigration } from './migration.ts';

/** The lines of an emulated batch as durable work items, leased by the batch engine (issue 4). */
export const migration0003BatchItems: PorticoMigration = {
  name: '0003_batch_items',
  async up(db) {
    await db.schema
      .createTable('batch_items')
      .addColumn('batch_id', 'text', (c) => c.notNull().references('batches.id').onDelete('cascade'))
      .addColumn('line_index', 'integer', (c) => c.notNull())
      .addColumn('custom_id', 'text', (c) => c.notNull())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'double precision')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'double precision')
      .addColumn('result', 'text')
      .addColumn('input_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('output_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cached_tokens', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('batch_items_pk', ['batch_id', 'line_index'])
      .addUniqueConstraint('batch_items_batch_custom_id', ['batch_id', 'custom_id'])
      .execute();
    await db.schema
      .createIndex('batch_items_state_next_attempt')
      .on('batch_items')
      .columns(['state', 'next_attempt_at'])
      .execute();
    // Leasing the next lines of one batch without scanning the lines already done.
    await db.schema
      .createIndex('batch_items_batch_state_line')
      .on('batch_items')
      .columns(['batch_id', 'state', 'line_index'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('batch_items').execute();
  },
};
