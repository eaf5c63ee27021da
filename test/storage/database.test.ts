import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { ConfigError } from '../../src/spec/errors.ts';
import { openDatabase, parseDatabaseUrl } from '../../src/storage/database.ts';
import { MIGRATIONS, migrateDownAll, migrateToLatest } from '../../src/storage/migrations/index.ts';
import { createTestDatabase, forEachDatabase } from '../helpers/databases.ts';

const APP_TABLES = ['api_keys', 'batch_holds', 'batch_items', 'batches', 'blob_chunks', 'blobs', 'console_sessions', 'end_users', 'file_copies', 'files', 'job_leases', 'spend_logs', 'stored_models', 'stored_responses', 'teams', 'upload_parts', 'uploads', 'users', 'webhook_attempts', 'webhook_deliveries'];

async function appTables(db: Awaited<ReturnType<typeof openDatabase>>): Promise<string[]> {
  const tables = await db.kysely.introspection.getTables();
  return tables
    .map((t) => t.name)
    .filter((name) => !name.startsWith('portico_migrations'))
    .sort();
}

describe('database URL', () => {
  test('an unset or empty URL means the embedded SQLite file ./portico.db', () => {
    assert.deepEqual(parseDatabaseUrl(undefined), { dialect: 'sqlite', path: './portico.db' });
    assert.deepEqual(parseDatabaseUrl(''), { dialect: 'sqlite', path: './portico.db' });
    assert.deepEqual(parseDatabaseUrl('  '), { dialect: 'sqlite', path: './portico.db' });
  });

  test('file: URLs name the SQLite file, file::memory: an in-memory database', () => {
    assert.deepEqual(parseDatabaseUrl('file:./data/p.db'), { dialect: 'sqlite', path: './data/p.db' });
    assert.deepEqual(parseDatabaseUrl('file:/var/lib/portico.db'), { dialect: 'sqlite', path: '/var/lib/portico.db' });
    assert.deepEqual(parseDatabaseUrl('file::memory:'), { dialect: 'sqlite', path: ':memory:' });
  });

  test("sqlite:/// URLs (SQLAlchemy's form, seen in LiteLLM configs) name the SQLite file", () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///litellm.db'), { dialect: 'sqlite', path: 'litellm.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:////var/lib/portico.db'), { dialect: 'sqlite', path: '/var/lib/portico.db' });
    assert.throws(() => parseDatabaseUrl('sqlite:///'), /names no file/);
    assert.throws(() => parseDatabaseUrl('sqlite://host/x.db'), /Unsupported database URL/);
  });

  test('postgres:// and postgresql:// URLs mean PostgreSQL', () => {
    assert.equal(parseDatabaseUrl('postgres://u@h/db').dialect, 'postgres');
    assert.equal(parseDatabaseUrl('postgresql://u@h/db').dialect, 'postgres');
  });

  test('any other URL is a ConfigError naming the accepted forms, without echoing a password', () => {
    assert.throws(
      () => parseDatabaseUrl('mysql://root:hunter2@localhost/portico'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /file:<path>/.test(error.message) &&
        /postgres:\/\//.test(error.message) &&
        !error.message.includes('hunter2'),
    );
    assert.throws(() => parseDatabaseUrl('sqlite.db'), ConfigError);
    assert.throws(() => parseDatabaseUrl('file:'), ConfigError);
  });

  test('an in-memory database opens migrated, and migrate:false leaves it empty', async () => {
    const migrated = await openDatabase('file::memory:');
    const bare = await openDatabase('file::memory:', { migrate: false });
    try {
      assert.deepEqual(await appTables(migrated), APP_TABLES);
      assert.deepEqual(await appTables(bare), []);
      await migrated.ping();
    } finally {
      await migrated.close();
      await bare.close();
    }
  });
});

forEachDatabase('migrations', (ctx) => {
  test('migrations go up, all the way down, and up again', async () => {
    assert.deepEqual(await appTables(ctx.db), APP_TABLES);
    assert.deepEqual(await migrateToLatest(ctx.db), [], 'nothing left to apply after open');

    const reverted = await migrateDownAll(ctx.db);
    assert.deepEqual(reverted, MIGRATIONS.map((m) => m.name).reverse());
    assert.deepEqual(await appTables(ctx.db), []);

    const applied = await migrateToLatest(ctx.db);
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.name));
    assert.deepEqual(await appTables(ctx.db), APP_TABLES);

    // The schema is usable again, foreign keys included.
    await ctx.db.kysely
      .insertInto('files')
      .values({ id: 'file-x', owner: 'o', purpose: 'batch', filename: 'f', bytes: 1, created_at: 1, status: 'processed' })
      .execute();
    await assert.rejects(
      ctx.db.kysely
        .insertInto('file_copies')
        .values({ id: 'c', file_id: 'file-missing', deployment_id: 'd', state: 'active', created_at: 1 })
        .execute(),
      'a copy of a missing file violates the foreign key',
    );
  });

  test('big integers come back as JS numbers', async () => {
    const row = await sql<{ big: number; counted: number }>`select cast(${2 ** 40} as bigint) as big, count(*) as counted from files`.execute(ctx.db.kysely);
    assert.equal(typeof row.rows[0].big, 'number');
    assert.equal(row.rows[0].big, 2 ** 40);
    assert.equal(typeof row.rows[0].counted, 'number');
  });

  test('a failed transaction leaves nothing behind', async () => {
    await assert.rejects(
      ctx.db.kysely.transaction().execute(async (trx) => {
        await trx
          .insertInto('files')
          .values({ id: 'file-rolled-back', owner: 'o', purpose: 'batch', filename: 'f', bytes: 1, created_at: 1, status: 'processed' })
          .execute();
        throw new Error('boom');
      }),
      /boom/,
    );
    const row = await ctx.db.kysely.selectFrom('files').select('id').where('id', '=', 'file-rolled-back').executeTakeFirst();
    assert.equal(row, undefined);
  });
});

forEachDatabase(
  'sqlite connection',
  (ctx) => {
    test('concurrent transactions run one after the other, never interleaved', async () => {
      await ctx.db.kysely
        .insertInto('api_keys')
        .values({ id: 'counter', key_hash: 'counter', key_alias: null, user_id: null, team_id: null, created_at: 1, expires_at: null })
        .execute();
      // Read-modify-write with a pause in the middle: interleaving would lose increments.
      const increment = () =>
        ctx.db.kysely.transaction().execute(async (trx) => {
          const { spend } = await trx.selectFrom('api_keys').select('spend').where('id', '=', 'counter').executeTakeFirstOrThrow();
          await new Promise((resolve) => setTimeout(resolve, 2));
          await trx.updateTable('api_keys').set({ spend: spend + 1 }).where('id', '=', 'counter').execute();
        });
      await Promise.all(Array.from({ length: 20 }, increment));
      const { spend } = await ctx.db.kysely.selectFrom('api_keys').select('spend').where('id', '=', 'counter').executeTakeFirstOrThrow();
      assert.equal(spend, 20);
    });

    test('two instances opened on one file in one process share the serialised connection', async () => {
      const other = await ctx.openAnother();
      const write = (db: typeof other, id: string) =>
        db.kysely.transaction().execute(async (trx) => {
          await trx
            .insertInto('files')
            .values({ id, owner: 'o', purpose: 'batch', filename: 'f', bytes: 1, created_at: 1, status: 'processed' })
            .execute();
          await new Promise((resolve) => setTimeout(resolve, 5));
        });
      await Promise.all([write(ctx.db, 'file-a1'), write(other, 'file-a2'), write(ctx.db, 'file-a3'), write(other, 'file-a4')]);
      const rows = await other.kysely.selectFrom('files').select('id').where('id', 'like', 'file-a%').execute();
      assert.equal(rows.length, 4);
    });
  },
  { dialects: ['sqlite'] },
);

describe('postgres migrations across instances', () => {
  test('several instances starting together on a fresh database migrate it once, without racing', async () => {
    const fresh = await createTestDatabase('postgres', { migrate: false });
    try {
      const instances = await Promise.all(Array.from({ length: 5 }, () => fresh.openAnother({ migrate: true })));
      const { rows } = await sql<{ name: string }>`select name from portico_migrations order by name`.execute(instances[0].kysely);
      assert.deepEqual(
        rows.map((r) => r.name),
        MIGRATIONS.map((m) => m.name),
      );
      assert.deepEqual(await appTables(instances[4]), APP_TABLES);
    } finally {
      await fresh.dispose();
    }
  });
});
