import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.ts';
import { acquire } from './rate-limiter.ts';

const MINUTE = 60_000;

function clock(start = 10 * MINUTE) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('the in-memory rate limiter', () => {
  it('grants up to the limit in a window and refuses the unit after, with a time to come back', async () => {
    const time = clock();
    const limiter = new InMemoryRateLimiter(time.now);
    for (let i = 0; i < 5; i++) assert.equal((await limiter.tryAcquire('k', 1, 5, MINUTE)).granted, true);
    const refused = await limiter.tryAcquire('k', 1, 5, MINUTE);
    assert.equal(refused.granted, false);
    assert.equal(refused.used, 5);
    // Five taken at the window's start: one fits once a fifth of the next window has passed.
    assert.equal(refused.retryAfterMs, MINUTE + MINUTE / 5);
    time.advance(refused.retryAfterMs);
    assert.equal((await limiter.tryAcquire('k', 1, 5, MINUTE)).granted, true);
  });

  it('slides: the previous window counts less as the current one advances', async () => {
    const time = clock();
    const limiter = new InMemoryRateLimiter(time.now);
    await limiter.record('k', 10, MINUTE);
    time.advance(MINUTE + MINUTE / 2);
    assert.equal(await limiter.usage('k', MINUTE), 5);
    time.advance(MINUTE);
    assert.equal(await limiter.usage('k', MINUTE), 0);
  });

  it('never grants a request that does not fit entirely, and keeps keys apart', async () => {
    const limiter = new InMemoryRateLimiter(clock().now);
    assert.equal((await limiter.tryAcquire('a', 4, 5, MINUTE)).granted, true);
    assert.equal((await limiter.tryAcquire('a', 2, 5, MINUTE)).granted, false);
    assert.equal(await limiter.usage('a', MINUTE), 4);
    assert.equal((await limiter.tryAcquire('b', 5, 5, MINUTE)).granted, true);
  });

  it('records usage that happened anyway and gives back what was taken but not used', async () => {
    const limiter = new InMemoryRateLimiter(clock().now);
    await limiter.record('k', 7, MINUTE);
    assert.equal((await limiter.tryAcquire('k', 3, 8, MINUTE)).granted, false);
    await limiter.record('k', -2, MINUTE);
    assert.equal((await limiter.tryAcquire('k', 3, 8, MINUTE)).granted, true);
    await limiter.record('k', -100, MINUTE);
    assert.equal(await limiter.usage('k', MINUTE), 0);
  });

  it('acquire waits for room, and gives up after maxWaitMs or for an amount over the limit', async () => {
    const time = clock();
    const limiter = new InMemoryRateLimiter(time.now);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      time.advance(ms);
    };
    await limiter.record('k', 3, 1000);
    assert.equal(await acquire(limiter, 'k', 1, 3, 1000, { sleep }), true);
    assert.ok(slept.length > 0 && slept.every((ms) => ms > 0));
    assert.equal(await acquire(limiter, 'k', 4, 3, 1000, { sleep }), false);
    await limiter.record('k', 10, 1000);
    assert.equal(await acquire(limiter, 'k', 1, 3, 1000, { sleep: async () => undefined, maxWaitMs: 0 }), false);
  });
});
