import type { PorticoMigration } from './migration.ts';

/**
 * A virtual key's rate limits (LiteLLM `/key/generate` fields `rpm_limit`, `tpm_limit`): requests
 * and tokens per minute, enforced across instances (issue 5). Null: no limit.
 */
export const migration0004KeyLimits: PorticoMigration = {
  name: '0004_key_limits',
  async up(db) {
    await db.schema.alterTable('api_keys').addColumn('rpm_limit', 'bigint').execute();
    await db.schema.alterTable('api_keys').addColumn('tpm_limit', 'bigint').execute();
  },
  async down(db) {
    await db.schema.alterTable('api_keys').dropColumn('tpm_limit').execute();
    await db.schema.alterTable('api_keys').dropColumn('rpm_limit').execute();
  },
};
