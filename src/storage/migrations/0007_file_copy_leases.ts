import type { PorticoMigration } from './migration.ts';

/**
 * A lease on a file copy while it uploads (issue 9): the uploader renews `lease_expires_at`
 * (unix seconds with a fraction) as its upload runs, so an `uploading` copy whose lease ran out
 * was left by a request or instance that died, and another create (or the file janitor) settles
 * it instead of waiting on it. Null on copies that are not uploading.
 */
export const migration0007FileCopyLeases: PorticoMigration = {
  name: '0007_file_copy_leases',
  async up(db) {
    await db.schema.alterTable('file_copies').addColumn('lease_expires_at', 'double precision').execute();
  },
  async down(db) {
    await db.schema.alterTable('file_copies').dropColumn('lease_expires_at').execute();
  },
};
