import type { PorticoMigration } from './migration.ts';

/**
 * A virtual key's budget (LiteLLM `/key/generate` fields `max_budget`, `soft_budget`,
 * `budget_duration`): spend above `max_budget` stops the key's model requests and batch creates;
 * with a duration, the key's spend goes back to 0 at `budget_reset_at` (issue 12).
 */
export const migration0012KeyBudgets: PorticoMigration = {
  name: '0012_key_budgets',
  async up(db) {
    await db.schema.alterTable('api_keys').addColumn('max_budget', 'double precision').execute();
    await db.schema.alterTable('api_keys').addColumn('soft_budget', 'double precision').execute();
    await db.schema.alterTable('api_keys').addColumn('budget_duration', 'text').execute();
    await db.schema.alterTable('api_keys').addColumn('budget_reset_at', 'double precision').execute();
  },
  async down(db) {
    await db.schema.alterTable('api_keys').dropColumn('budget_reset_at').execute();
    await db.schema.alterTable('api_keys').dropColumn('budget_duration').execute();
    await db.schema.alterTable('api_keys').dropColumn('soft_budget').execute();
    await db.schema.alterTable('api_keys').dropColumn('max_budget').execute();
  },
};
