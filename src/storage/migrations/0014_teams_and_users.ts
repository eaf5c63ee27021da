import type { CreateTableBuilder } from 'kysely';
import type { PorticoMigration } from './migration.ts';

/**
 * Teams and users (LiteLLM `/team/new`, `/user/new`, issue 12), each a budget subject like a key:
 * `max_budget`, `soft_budget`, `budget_duration` (the spend goes back to 0 at `budget_reset_at`),
 * `spend` (added by the spend ledger in the transaction that writes its rows), `rpm_limit`,
 * `tpm_limit`, `max_parallel_requests`, `model_max_budget`. Keys get the last two as well.
 * A team's members are a JSON list on the team (`members_with_roles`), a user's teams a JSON list
 * on the user: both are written together by the team store, in one transaction.
 */
export const migration0014TeamsAndUsers: PorticoMigration = {
  name: '0014_teams_and_users',
  async up(db) {
    const budgetColumns = (table: CreateTableBuilder<any, any>) =>
      table
        .addColumn('models', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('spend', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('max_budget', 'double precision')
        .addColumn('soft_budget', 'double precision')
        .addColumn('budget_duration', 'text')
        .addColumn('budget_reset_at', 'double precision')
        .addColumn('rpm_limit', 'bigint')
        .addColumn('tpm_limit', 'bigint')
        .addColumn('max_parallel_requests', 'bigint')
        .addColumn('model_max_budget', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull());
    await budgetColumns(
      db.schema
        .createTable('teams')
        .addColumn('team_id', 'text', (c) => c.primaryKey())
        .addColumn('team_alias', 'text')
        .addColumn('members_with_roles', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0)),
    ).execute();
    await budgetColumns(
      db.schema
        .createTable('users')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('user_email', 'text')
        .addColumn('user_alias', 'text')
        .addColumn('user_role', 'text', (c) => c.notNull().defaultTo('internal_user'))
        .addColumn('teams', 'text', (c) => c.notNull().defaultTo('[]')),
    ).execute();
    await db.schema.alterTable('api_keys').addColumn('max_parallel_requests', 'bigint').execute();
    await db.schema.alterTable('api_keys').addColumn('model_max_budget', 'text').execute();
    // `/team/info` and `/user/info` list the keys of a team or user.
    await db.schema.createIndex('api_keys_team_id').on('api_keys').column('team_id').execute();
    await db.schema.createIndex('api_keys_user_id').on('api_keys').column('user_id').execute();
  },
  async down(db) {
    await db.schema.dropIndex('api_keys_user_id').execute();
    await db.schema.dropIndex('api_keys_team_id').execute();
    await db.schema.alterTable('api_keys').dropColumn('model_max_budget').execute();
    await db.schema.alterTable('api_keys').dropColumn('max_parallel_requests').execute();
    await db.schema.dropTable('users').execute();
    await db.schema.dropTable('teams').execute();
  },
};
