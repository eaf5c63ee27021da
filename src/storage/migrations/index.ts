/**
 * The ordered list of migrations, and running them with Kysely's `Migrator` (a static list:
 * nothing scans the filesystem, so a bundled or relocated build migrates the same way).
 */
import { Migrator, NO_MIGRATIONS, sql, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from '../database.ts';
import { migration0001ApiKeys } from './0001_api_keys.ts';
import { migration0002FilesAndBatches } from './0002_files_and_batches.ts';
import { migration0003BatchItems } from './0003_batch_items.ts';
import { migration0004KeyLimits } from './0004_key_limits.ts';
import { migration0005Blobs } from './0005_blobs.ts';
import { migration0006FileLineModels } from './0006_file_line_models.ts';
import { migration0007FileCopyLeases } from './0007_file_copy_leases.ts';
import { migration0008BatchIntents } from './0008_batch_intents.ts';
import { migration0009SpendLogs } from './0009_spend_logs.ts';
import { migration0011WebhookOutbox } from './0011_webhook_outbox.ts';
import { migration0012KeyBudgets } from './0012_key_budgets.ts';
import { migration0013ConsoleSessions } from './0013_console_sessions.ts';
import { migration0014TeamsAndUsers } from './0014_teams_and_users.ts';
import { migration0015BatchReservations } from './0015_batch_reservations.ts';
import { migration0016FileTokenEstimates } from './0016_file_token_estimates.ts';
import { migration0017BatchPartStates } from './0017_batch_part_states.ts';
import { migration0018SpendRequestTags } from './0018_spend_request_tags.ts';
import { migration0019SpendEndUser } from './0019_spend_end_user.ts';
import { migration0020SpendEndUserIndex } from './0020_spend_end_user_index.ts';
import { migration0021EndUsers } from './0021_end_users.ts';
import { migration0022StoredModels } from './0022_stored_models.ts';
import { migration0023Uploads } from './0023_uploads.ts';
import { migration0024StoredResponses } from './0024_stored_responses.ts';
import type { PorticoMigration } from './migration.ts';

export type { PorticoMigration } from './migration.ts';

/** In order. Append only: a released migration is never edited. */
export const MIGRATIONS: readonly PorticoMigration[] = [
  migration0001ApiKeys,
  migration0002FilesAndBatches,
  migration0003BatchItems,
  migration0004KeyLimits,
  migration0005Blobs,
  migration0006FileLineModels,
  migration0007FileCopyLeases,
  migration0008BatchIntents,
  migration0009SpendLogs,
  migration0011WebhookOutbox,
  migration0012KeyBudgets,
  migration0013ConsoleSessions,
  migration0014TeamsAndUsers,
  migration0015BatchReservations,
  migration0016FileTokenEstimates,
  migration0017BatchPartStates,
  migration0018SpendRequestTags,
  migration0019SpendEndUser,
  migration0020SpendEndUserIndex,
  migration0021EndUsers,
  migration0022StoredModels,
  migration0023Uploads,
  migration0024StoredResponses,
];

/** Key of the session-level advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK_KEY = 7_215_048_311;

/** Applies every pending migration; answers the names applied. Throws if one fails. */
export async function migrateToLatest(db: Database): Promise<string[]> {
  return runLocked(db, (migrator) => migrator.migrateToLatest());
}

/** Reverts every applied migration, newest first (tests: up, down, up). */
export async function migrateDownAll(db: Database): Promise<string[]> {
  return runLocked(db, (migrator) => migrator.migrateTo(NO_MIGRATIONS));
}

function migratorFor(db: Database): Migrator {
  const migrations: Record<string, Migration> = {};
  for (const migration of MIGRATIONS) {
    migrations[migration.name] = {
      up: (kysely) => migration.up(kysely, db.dialect),
      down: (kysely) => migration.down(kysely, db.dialect),
    };
  }
  return new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'portico_migrations',
    migrationLockTableName: 'portico_migrations_lock',
  });
}

/**
 * Several instances starting together against one PostgreSQL must not race to create tables.
 * Kysely locks only around applying migrations, not around creating its own bookkeeping tables,
 * so the whole run is wrapped in our own session-level advisory lock, held on a connection of
 * its own while the migrator works on others. SQLite needs nothing: its one connection is
 * already serialised.
 */
async function runLocked(db: Database, run: (migrator: Migrator) => Promise<MigrationResultSet>): Promise<string[]> {
  const migrator = migratorFor(db);
  const execute = async (): Promise<string[]> => {
    const { error, results } = await run(migrator);
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const which = failed === undefined ? 'Database migration' : `Database migration ${failed}`;
      throw new Error(`${which} failed: ${describe(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (db.dialect !== 'postgres') return execute();
  return db.kysely.connection().execute(async (lockConnection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(lockConnection);
    try {
      return await execute();
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(lockConnection);
    }
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
