/**
 * PostgreSQL that cannot serve (down, restarting, a session terminated) is a 503
 * `database_unavailable` (src/storage/database-unavailable.ts), never a 500 or a crash; other
 * database errors keep their own codes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase } from '../helpers/databases.ts';
import { DatabaseUnavailableError } from '../../src/spec/errors.ts';
import { asDatabaseUnavailable, isDatabaseUnavailable } from '../../src/storage/database-unavailable.ts';

test('a database that cannot be reached is told apart from a query that failed', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  for (const unavailable of [
    refused,
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
  ]) {
    assert.ok(isDatabaseUnavailable(unavailable), unavailable.message);
  }
  for (const other of [
    Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
    Object.assign(new Error('deadlock detected'), { code: '40P01' }),
    new Error('syntax error'),
  ]) {
    assert.equal(isDatabaseUnavailable(other), false, other.message);
    assert.equal(asDatabaseUnavailable(other), other, 'passed through unchanged');
  }
  const translated = asDatabaseUnavailable(refused);
  assert.ok(translated instanceof DatabaseUnavailableError);
  assert.equal(translated.httpStatus, 503);
  assert.equal(translated.code, 'database_unavailable');
  assert.equal(translated.cause, refused);
});

test('a connection that drops while a transaction holds it fails the transaction with a 503, and does not end the process', async () => {
  const database = await createTestDatabase('postgres');
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    const outcome = database.db.kysely.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      // What a server restart does to every session: terminated while checked out of the pool.
      await admin.query('select pg_terminate_backend($1)', [rows[0].pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`select 1`.execute(trx);
    });
    await assert.rejects(outcome, DatabaseUnavailableError);
    await database.db.ping();
  } finally {
    await admin.end();
    await database.dispose();
  }
});

test('a query left unanswered for queryTimeoutMs fails with a 503, and its connection leaves the pool instead of serving the next request mid-query', async () => {
  const database = await createTestDatabase('postgres');
  try {
    // pg_sleep stands in for a server that does not answer (frozen, or cut off the network).
    const db = await database.openAnother({ queryTimeoutMs: 300 });
    const backendPid = async (connection: typeof db.kysely) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(connection)).rows[0].pid;
    let sleeper = 0;
    const started = Date.now();
    const outcome = db.kysely.connection().execute(async (connection) => {
      sleeper = await backendPid(connection);
      await sql`select pg_sleep(3)`.execute(connection);
    });
    await assert.rejects(outcome, (error: unknown) => error instanceof DatabaseUnavailableError && error.code === 'database_unavailable');
    // The bound tells "cut after the timeout" from "waited for the answer".
    assert.ok(Date.now() - started < 2_500, `failed after ${Date.now() - started} ms`);
    // The pool hands out the connection released last: a new one here means the other was dropped.
    assert.notEqual(await db.kysely.connection().execute(backendPid), sleeper, 'the timed-out connection is not pooled again');

    // In a transaction: the ROLLBACK that follows fails at once too, and the request gets the 503.
    await assert.rejects(db.kysely.transaction().execute((trx) => sql`select pg_sleep(3)`.execute(trx)), DatabaseUnavailableError);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => sql<{ n: number }>`select ${i}::int as n`.execute(db.kysely)));
    assert.deepEqual(answers.map((answer) => answer.rows[0].n), [0, 1, 2, 3, 4], 'every pooled connection answers its own query');
  } finally {
    await database.dispose();
  }
});
