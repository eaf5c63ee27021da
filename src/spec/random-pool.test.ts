import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomByte, randomPool, takeRandomBytes } from './random-pool.ts';

test('the pool hands out each range once, refilling when a request does not fit', () => {
  // 1,000 takes of 10 bytes cross the 4 KiB pool's end twice; each range starts where the last
  // ended, except after a refill (back to 0), and always fits in the pool.
  let previousEnd = takeRandomBytes(10) + 10;
  let refills = 0;
  for (let i = 0; i < 1_000; i++) {
    const at = takeRandomBytes(10);
    assert.ok(at + 10 <= randomPool.length);
    if (at === 0) refills++;
    else assert.equal(at, previousEnd);
    previousEnd = at + 10;
  }
  assert.ok(refills >= 2);
  // Single bytes come from the same pool, after the ranges already handed out.
  const byte = randomByte();
  assert.ok(Number.isInteger(byte) && byte >= 0 && byte < 256);
  assert.equal(takeRandomBytes(1), previousEnd + 1);
});

test('a refill draws new bytes', () => {
  const at = takeRandomBytes(randomPool.length);
  assert.equal(at, 0);
  const first = Buffer.from(randomPool);
  assert.equal(takeRandomBytes(randomPool.length), 0);
  assert.notDeepEqual(Buffer.from(randomPool), first);
});
