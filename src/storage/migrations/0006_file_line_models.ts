import type { PorticoMigration } from './migration.ts';

/**
 * The model groups a batch input file's lines name (`body.model`), kept beside `model_groups`
 * (which holds the `target_model_names` of a file placed on several groups): a batch created
 * without `model` runs on the lines' group when they all name one. Null on older rows.
 */
export const migration0006FileLineModels: PorticoMigration = {
  name: '0006_file_line_models',
  async up(db) {
    await db.schema.alterTable('files').addColumn('line_models', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('files').dropColumn('line_models').execute();
  },
};
