/**
 * Real databases for tests: run one suite on both SQLite and PostgreSQL.
 *
 *   import { test } from 'node:test';
 *   import { forEachDatabase } from '../helpers/databases.ts';
 *
 *   forEachDatabase('file store', (ctx) => {
 *     test('lists files newest first', async () => {
 *       const files = new FileStore(ctx.db);   // ctx.db: opened and migrated
 *       ...
 *     });
 *   });
 *
 * `forEachDatabase` declares one `describe` per dialect ("file store [sqlite]", "file store
 * [postgres]"); its before hook creates a fresh database (SQLite: a file in a new temp dir;
 * PostgreSQL: a uniquely named database created through the server's `postgres` database) and
 * its after hook closes everything and drops it. Tests inside one describe share the database,
 * so give their rows distinct owners/ids. `ctx.openAnother()` opens a second, independent
 * `Database` on the same store (another "instance": its own pg pool), closed automatically.
 *
 * For a database of your own (e.g. per test), use `createTestDatabase(dialect)` and `dispose()`.
 *
 * The PostgreSQL server is `PORTICO_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`.
 * Tests need it running: they fail, not skip, without it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database, type OpenDatabaseOptions, type SqlDialectName } from '../../src/storage/database.ts';

export const TEST_PG_SERVER_URL = process.env.PORTICO_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export const ALL_DIALECTS: readonly SqlDialectName[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  readonly dialect: SqlDialectName;
  /** A URL `openDatabase` accepts, naming this test database. */
  readonly url: string;
  /** Opened (and migrated, unless asked otherwise) on creation. */
  readonly db: Database;
  /** Opens another independent instance on the same database; closed by `dispose`. */
  openAnother(options?: OpenDatabaseOptions): Promise<Database>;
  /** Closes every instance and removes the database. */
  dispose(): Promise<void>;
}

/** Creates a fresh database of `dialect` and opens it. */
export async function createTestDatabase(dialect: SqlDialectName, options: OpenDatabaseOptions = {}): Promise<TestDatabase> {
  const store = dialect === 'sqlite' ? await createSqliteStore() : await createPostgresStore();
  const opened: Database[] = [];
  const openAnother = async (openOptions: OpenDatabaseOptions = {}): Promise<Database> => {
    const db = await openDatabase(store.url, openOptions);
    opened.push(db);
    return db;
  };
  let db: Database;
  try {
    db = await openAnother(options);
  } catch (error) {
    await store.remove();
    throw error;
  }
  return {
    dialect,
    url: store.url,
    db,
    openAnother,
    async dispose() {
      await Promise.allSettled(opened.map((d) => d.close()));
      await store.remove();
    },
  };
}

export interface TestDatabaseContext {
  readonly dialect: SqlDialectName;
  readonly url: string;
  /** The suite's database; available inside tests and hooks (not while declaring them). */
  readonly db: Database;
  openAnother(options?: OpenDatabaseOptions): Promise<Database>;
}

/** Declares the suite `body` once per dialect, each on a fresh database. */
export function forEachDatabase(
  title: string,
  body: (ctx: TestDatabaseContext) => void,
  options: { dialects?: readonly SqlDialectName[]; open?: OpenDatabaseOptions } = {},
): void {
  for (const dialect of options.dialects ?? ALL_DIALECTS) {
    describe(`${title} [${dialect}]`, () => {
      let current: TestDatabase | undefined;
      const requireCurrent = (): TestDatabase => {
        if (!current) throw new Error('The test database is only available inside tests and hooks.');
        return current;
      };
      before(async () => {
        current = await createTestDatabase(dialect, options.open);
      });
      after(async () => {
        await current?.dispose();
        current = undefined;
      });
      body({
        dialect,
        get url() {
          return requireCurrent().url;
        },
        get db() {
          return requireCurrent().db;
        },
        openAnother: (openOptions) => requireCurrent().openAnother(openOptions),
      });
    });
  }
}

interface Store {
  url: string;
  remove(): Promise<void>;
}

async function createSqliteStore(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-test-db-'));
  return {
    url: `file:${join(dir, 'portico.db')}`,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function createPostgresStore(): Promise<Store> {
  // Generated here from hex digits only, so it is safe to place in DDL (which takes no parameters).
  const name = `portico_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_PG_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    remove: async () => {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
