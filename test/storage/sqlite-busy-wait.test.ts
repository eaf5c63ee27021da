/**
 * A statement on Portico's SQLite connection that meets another connection's write lock (the
 * database file's worker thread, another Portico process) waits for it on a timer, not in
 * SQLite's busy handler, which sleeps on the event loop (src/storage/sqlite-dialect.ts): the loop
 * keeps turning meanwhile, so a lock holder in this very process can finish; the wait is still
 * bounded by the busy timeout; and inside a transaction nothing is retried.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Kysely, sql, type Generated } from 'kysely';
import { NodeSqliteDialect } from '../../src/storage/sqlite-dialect.ts';

interface Schema {
  notes: { id: Generated<number>; text: string };
}

async function withFile(busyTimeoutMs: number, body: (db: Kysely<Schema>, other: DatabaseSync) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-busy-'));
  const path = join(dir, 'busy.db');
  const db = new Kysely<Schema>({ dialect: new NodeSqliteDialect({ path, busyTimeoutMs }) });
  await sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`.execute(db);
  // Another connection to the same file, as the worker thread or another process holds one.
  const other = new DatabaseSync(path);
  try {
    await body(db, other);
  } finally {
    if (other.isTransaction) other.exec('ROLLBACK');
    other.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a write meeting another connection\'s lock waits on a timer, so the event loop turns until the lock is let go', async () => {
  await withFile(5_000, async (db, other) => {
    other.exec('BEGIN IMMEDIATE');
    other.exec("INSERT INTO notes (text) VALUES ('held')");
    // The holder lets go from a timer of this process: with a sleeping busy handler it never
    // could, and the write would fail after the whole busy timeout.
    setTimeout(() => other.exec('COMMIT'), 150);
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const started = performance.now();
    try {
      await db.insertInto('notes').values({ text: 'waited' }).execute();
    } finally {
      clearInterval(ticker);
    }
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 140 && waitedMs < 2_000, `the write waited for the lock (${waitedMs.toFixed(0)} ms)`);
    assert.ok(ticks >= 10, `the event loop turned meanwhile (${ticks} ticks of 5 ms)`);
    const rows = await db.selectFrom('notes').select('text').orderBy('id').execute();
    assert.deepEqual(rows.map((row) => row.text), ['held', 'waited']);

    // A transaction's BEGIN IMMEDIATE waits the same way.
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 100);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('notes').values({ text: 'in a transaction' }).execute();
    });
    assert.equal((await db.selectFrom('notes').select('id').execute()).length, 3);
  });
});

test('the wait is bounded by the busy timeout, then the statement fails as SQLite busy and changed nothing', async () => {
  await withFile(200, async (db, other) => {
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await assert.rejects(db.insertInto('notes').values({ text: 'never' }).execute(), (error: { errcode?: number }) => (error.errcode ?? 0) % 256 === 5);
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 150 && waitedMs < 1_500, `gave up after about the busy timeout (${waitedMs.toFixed(0)} ms)`);
    other.exec('ROLLBACK');
    assert.equal((await db.selectFrom('notes').select('id').execute()).length, 0);
    // The connection is usable afterwards.
    await db.insertInto('notes').values({ text: 'after' }).execute();
    assert.equal((await db.selectFrom('notes').select('id').execute()).length, 1);
  });
});
