/**
 * The batch engine's hot writes on SQLite run on the database file's worker thread
 * (src/storage/off-loop-statement.ts): the event loop keeps turning while one runs, the answer is
 * what the main connection would give (rows of a RETURNING, changed rows otherwise), a failed
 * statement rejects and leaves the worker usable, and an in-memory database (no worker) runs the
 * same statement on its own connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { executeWriteOffLoop } from '../../src/storage/off-loop-statement.ts';

/** A statement that keeps SQLite busy for a while (a recursive count), then writes its result. */
const slowWrite = (db: Database) =>
  sql<{ n: number }>`INSERT INTO counts (n) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c RETURNING n`.compile(db.kysely);

async function ticksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 2);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { ticks, ms: performance.now() - started };
}

async function withDatabase(url: (dir: string) => string, body: (db: Database) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-off-loop-'));
  const db = await openDatabase(url(dir), { migrate: false });
  try {
    await sql`CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL UNIQUE)`.execute(db.kysely);
    await body(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a write sent off the loop on a SQLite file runs on its worker while the event loop turns', async () => {
  await withDatabase(
    (dir) => `file:${join(dir, 'portico.db')}`,
    async (db) => {
      assert.ok(db.sqliteWorker(), 'a file database has a worker');
      let answer: Awaited<ReturnType<typeof executeWriteOffLoop<{ n: number }>>> | undefined;
      const { ticks, ms } = await ticksDuring(async () => (answer = await executeWriteOffLoop(db, slowWrite(db))));
      assert.deepEqual(answer?.rows.map((row) => Number(row.n)), [3_000_000], 'RETURNING rows come back');
      // The same statement on the main connection lets no timer fire until it ends (below).
      assert.ok(ticks >= 5, `the event loop turned ${ticks} times during ${ms.toFixed(0)} ms of the statement`);
      // The main connection sees the worker's commit at once.
      const seen = await db.kysely.selectFrom('counts' as never).select(sql<number>`count(*)`.as('c')).executeTakeFirstOrThrow();
      assert.equal(Number((seen as { c: number }).c), 1);

      const updated = await executeWriteOffLoop(db, sql`UPDATE counts SET n = n + 1`.compile(db.kysely));
      assert.equal(updated.numAffectedRows, 1n, 'a statement without columns answers its changed rows');

      // A failed statement rejects, and the worker goes on serving.
      await assert.rejects(executeWriteOffLoop(db, sql`INSERT INTO counts (n) VALUES (${3_000_001})`.compile(db.kysely)), /UNIQUE/);
      const after = await executeWriteOffLoop(db, sql`INSERT INTO counts (n) VALUES (${7}) RETURNING n`.compile(db.kysely));
      assert.deepEqual(after.rows, [{ n: 7 }]);
    },
  );
});

test('without a worker (in-memory SQLite) the statement runs on the database connection, blocking the loop as before', async () => {
  await withDatabase(
    () => 'file::memory:',
    async (db) => {
      assert.equal(db.sqliteWorker(), undefined);
      let answer: Awaited<ReturnType<typeof executeWriteOffLoop<{ n: number }>>> | undefined;
      const { ticks } = await ticksDuring(async () => (answer = await executeWriteOffLoop(db, slowWrite(db))));
      assert.deepEqual(answer?.rows.map((row) => Number(row.n)), [3_000_000]);
      assert.ok(ticks <= 1, `on the main connection no timer fires while it runs (${ticks})`);
    },
  );
});
