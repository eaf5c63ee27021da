/**
 * SQLite's WAL is checkpointed by a worker thread (src/storage/sqlite-worker.ts), not by
 * whichever commit on the event loop crosses SQLite's automatic mark: the main connection has the
 * automatic checkpoint off, and pages written reach the database file within about a second
 * without any further commit. Closing still leaves one file and no WAL behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/storage/database.ts';

test('the WAL of a SQLite database is checkpointed off the event loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-checkpoints-'));
  const path = join(dir, 'portico.db');
  const db = await openDatabase(`file:${path}`, { migrate: false });
  try {
    const [setting] = (await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db.kysely)).rows;
    assert.equal(Number(setting.wal_autocheckpoint), 0, 'no checkpoint inside a commit on the event loop');
    await sql`CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`.execute(db.kysely);
    // About 2 MB: below SQLite's automatic mark (1,000 pages), so only the worker copies it.
    for (let i = 0; i < 20; i++) await sql`INSERT INTO filler (text) VALUES (${'x'.repeat(100_000)})`.execute(db.kysely);
    const deadline = Date.now() + 5_000;
    while (statSync(path).size < 2_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(statSync(path).size >= 2_000_000, `the database file holds the rows (${statSync(path).size} bytes)`);
  } finally {
    await db.close();
  }
  assert.equal(existsSync(`${path}-wal`), false, 'closing checkpointed and removed the WAL');
  rmSync(dir, { recursive: true, force: true });
});
