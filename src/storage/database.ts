/**
 * The database port: one Kysely instance over SQLite (embedded, the default) or PostgreSQL.
 *
 * Why Kysely: typed SQL, migrations as data, one schema text for both dialects, no native addon.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { ConfigError } from '../spec/errors.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { DatabaseSchema } from './schema.ts';
import type { PostgresPoolOptions } from './postgres-pool.ts';
import { NodeSqliteDialect, sqliteWorkerOf } from './sqlite-dialect.ts';
import type { SqliteWorker } from './sqlite-worker.ts';

export type { DatabaseSchema } from './schema.ts';

export type SqlDialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly kysely: Kysely<DatabaseSchema>;
  readonly dialect: SqlDialectName;
  /** Resolves when the database answers a trivial query (readiness probes). */
  ping(): Promise<void>;
  /** Closes the connection(s). The instance is unusable afterwards. */
  close(): Promise<void>;
  /**
   * A SQLite file's worker thread (`sqlite-worker.ts`): its own connection, for writes kept off
   * the event loop. Undefined for PostgreSQL (its I/O is asynchronous already), `:memory:`, or
   * when the worker is gone.
   */
  sqliteWorker(): SqliteWorker | undefined;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations before answering. Default true. */
  migrate?: boolean;
  /**
   * PostgreSQL: a query left without an answer this long fails as 503 `database_unavailable`
   * (`portico_settings.database.query_timeout_seconds`). Unset or 0: no bound. Migrations run on
   * a pool of their own without it: they may wait for another instance's, and take long.
   */
  queryTimeoutMs?: number;
  /** PostgreSQL: most connections the pool opens (LiteLLM's `database_connection_pool_limit`; default 10). */
  poolMax?: number;
  /**
   * PostgreSQL: how long a query waits for a connection, from the pool or a new one, before it
   * fails as 503 `database_unavailable` (LiteLLM's `database_connection_timeout`; default 10 s).
   */
  connectionTimeoutMs?: number;
}

/** The SQLite file used when no database URL is configured. */
export const DEFAULT_SQLITE_PATH = './portico.db';

export type DatabaseLocation = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/**
 * Reads a database URL:
 * - unset or empty: embedded SQLite at `./portico.db`;
 * - `file:<path>`: SQLite at that path (`file::memory:` for an in-memory database);
 * - `sqlite:///<path>`: SQLite at that path, as SQLAlchemy writes it (`sqlite:///portico.db`
 *   relative, `sqlite:////var/lib/portico.db` absolute), seen in LiteLLM configs;
 * - `postgres://...` or `postgresql://...`: PostgreSQL.
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseLocation {
  const value = url?.trim() ?? '';
  if (value === '') return { dialect: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (value.startsWith('file:')) {
    const path = value.slice('file:'.length);
    if (path === '') throw new ConfigError(`Database URL "${value}" names no file. ${ACCEPTED_FORMS}`);
    return { dialect: 'sqlite', path };
  }
  if (value.startsWith('sqlite:///')) {
    const path = value.slice('sqlite:///'.length);
    if (path === '') throw new ConfigError(`Database URL "${value}" names no file. ${ACCEPTED_FORMS}`);
    return { dialect: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value };
  throw new ConfigError(`Unsupported database URL "${redact(value)}". ${ACCEPTED_FORMS}`);
}

const ACCEPTED_FORMS =
  'Accepted: empty (SQLite at ./portico.db), file:<path> or sqlite:///<path> (SQLite; file::memory: for in-memory), ' +
  'postgres://... or postgresql://... (PostgreSQL).';

export async function openDatabase(url: string | undefined, options: OpenDatabaseOptions = {}): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const migrate = options.migrate ?? true;
  if (location.dialect === 'sqlite') {
    const database = openSqlite(location.path);
    if (migrate) await migrated(database);
    return database;
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? 0;
  const connecting = options.connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs: options.connectionTimeoutMs };
  if (migrate && queryTimeoutMs > 0) {
    // Unbounded, on connections of their own, closed once done.
    const migrations = await openPostgres(location.url, { max: 2, ...connecting });
    await migrated(migrations);
    await migrations.close();
  }
  const database = await openPostgres(location.url, { queryTimeoutMs, ...connecting, ...(options.poolMax !== undefined && { max: options.poolMax }) });
  if (migrate && queryTimeoutMs === 0) await migrated(database);
  return database;
}

/** Applies pending migrations to `database`; closes it when they fail. */
async function migrated(database: Database): Promise<void> {
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

function openSqlite(path: string): Database {
  const memory = path === ':memory:';
  const absolute = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(absolute), { recursive: true });
  return wrap(new Kysely<DatabaseSchema>({ dialect: new NodeSqliteDialect({ path: absolute }) }), 'sqlite', memory ? undefined : () => sqliteWorkerOf(absolute));
}

async function openPostgres(url: string, poolOptions: PostgresPoolOptions): Promise<Database> {
  // Loaded only for PostgreSQL: the embedded SQLite setup does not carry the pg driver.
  const { createPostgresPool } = await import('./postgres-pool.ts');
  const { reportingUnavailability } = await import('./database-unavailable.ts');
  const pool = reportingUnavailability(createPostgresPool(url, poolOptions));
  return wrap(new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
}

function wrap(kysely: Kysely<DatabaseSchema>, dialect: SqlDialectName, worker?: () => SqliteWorker | undefined): Database {
  let closed: Promise<void> | undefined;
  return {
    kysely,
    dialect,
    sqliteWorker: () => (closed === undefined ? worker?.() : undefined),
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    close() {
      closed ??= kysely.destroy();
      return closed;
    },
  };
}

/** Never echo a password from a URL into logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
