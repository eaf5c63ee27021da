import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedId } from './time-ordered-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are UUIDv7 text carrying their millisecond, distinct, and ordered by time', () => {
  const now = Date.UTC(2026, 11, 6, 3, 10, 0, 123);
  const id = timeOrderedId(now);
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
  // Over several refills of the random pool: no repeat, every one well-formed.
  const ids = Array.from({ length: 100_000 }, () => timeOrderedId(now));
  assert.equal(new Set(ids).size, ids.length);
  for (const each of ids.slice(-300)) assert.match(each, UUID_V7);
  // A later millisecond sorts after, whatever the random bits.
  for (let i = 0; i < 1000; i++) assert.ok(timeOrderedId(now) < timeOrderedId(now + 1));
  // The largest time RFC 9562 allows (48 bits).
  assert.equal(timeOrderedId(2 ** 48 - 1).slice(0, 13), 'ffffffff-ffff');
});
