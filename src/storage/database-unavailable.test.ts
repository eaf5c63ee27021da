import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseUnavailableError } from '../spec/errors.ts';
import { asDatabaseUnavailable, isDatabaseUnavailable } from './database-unavailable.ts';

test('a database that cannot be reached is told apart from a query that failed', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  for (const unavailable of [
    refused,
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
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
