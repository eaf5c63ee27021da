/**
 * The state instances share through Redis: rate-limit counters (atomic across connections, same
 * semantics as the in-memory limiter, keys that expire) and deployment cooldowns (a failure
 * threshold counted across instances, cooldowns seen by every instance without a round trip),
 * and what happens when Redis goes away (fail open, fast, with a warning; back when it is back).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RedisConnection } from '../../src/coordination/redis-connection.ts';
import { RedisDeploymentHealth } from '../../src/coordination/redis-deployment-health.ts';
import { RedisRateLimiter } from '../../src/coordination/redis-rate-limiter.ts';
import { InMemoryRateLimiter } from '../../src/routing/rate-limits/in-memory-rate-limiter.ts';
import { capturingLogger, connectTestRedis, deleteRedisKeys, startRedisRelay, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from './redis-helpers.ts';

const MINUTE = 60_000;

describe('redis rate limiter', () => {
  const prefix = uniqueRedisPrefix('limiter');
  const connections: RedisConnection[] = [];
  let first: RedisRateLimiter;
  let second: RedisRateLimiter;
  before(async () => {
    connections.push(await connectTestRedis(prefix), await connectTestRedis(prefix));
    first = new RedisRateLimiter(connections[0]);
    second = new RedisRateLimiter(connections[1]);
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await deleteRedisKeys(prefix);
  });

  test('two instances racing for one budget get exactly the limit between them', async () => {
    const attempts = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? first : second).tryAcquire('race', 1, 25, MINUTE));
    const decisions = await Promise.all(attempts);
    assert.equal(decisions.filter((d) => d.granted).length, 25);
    const refused = decisions.filter((d) => !d.granted);
    assert.ok(refused.every((d) => d.retryAfterMs > 0 && d.retryAfterMs <= 2 * MINUTE), 'a refusal says when to come back');
    assert.equal(Math.round(await second.usage('race', MINUTE)), 25);
  });

  test('the shared limiter counts like the in-memory one: records, corrections and usage', async () => {
    const memory = new InMemoryRateLimiter();
    const steps: Array<(l: InMemoryRateLimiter | RedisRateLimiter) => Promise<unknown>> = [
      (l) => l.tryAcquire('same', 3, 10, MINUTE),
      (l) => l.record('same', 4, MINUTE),
      (l) => l.tryAcquire('same', 4, 10, MINUTE),
      (l) => l.record('same', -2, MINUTE),
      (l) => l.tryAcquire('same', 4, 10, MINUTE),
      (l) => l.record('same', -50, MINUTE),
    ];
    for (const step of steps) {
      const [expected, actual] = [await step(memory), await step(first)];
      if (typeof expected === 'object' && expected !== null) {
        const e = expected as { granted: boolean; used: number };
        const a = actual as { granted: boolean; used: number };
        assert.equal(a.granted, e.granted);
        assert.ok(Math.abs(a.used - e.used) < 0.01, `used ${a.used} vs ${e.used}`);
      }
      assert.ok(Math.abs((await first.usage('same', MINUTE)) - (await memory.usage('same', MINUTE))) < 0.01);
    }
    assert.equal(await first.usage('same', MINUTE), 0, 'usage never reads below zero');
  });

  test('a counter key expires by itself after two windows', async () => {
    await first.record('ttl', 1, 5_000);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const ttl = await raw.pttl(first.redisKey('ttl'));
      assert.ok(ttl > 5_000 && ttl <= 10_000, `ttl ${ttl}`);
    } finally {
      raw.disconnect();
    }
  });

  test('instances with different prefixes never share a counter', async () => {
    const otherPrefix = uniqueRedisPrefix('other');
    const other = await connectTestRedis(otherPrefix);
    try {
      await first.record('isolated', 7, MINUTE);
      assert.equal(await new RedisRateLimiter(other).usage('isolated', MINUTE), 0);
    } finally {
      await other.close();
      await deleteRedisKeys(otherPrefix);
    }
  });
});

describe('redis deployment health', () => {
  const prefix = uniqueRedisPrefix('health');
  const policy = { allowedFails: 3, cooldownMs: 5_000, windowMs: MINUTE };
  const connections: RedisConnection[] = [];
  const healths: RedisDeploymentHealth[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const redis = await connectTestRedis(prefix);
      connections.push(redis);
      healths.push(await RedisDeploymentHealth.start(redis, { policy, deploymentIds: ['dep-a', 'dep-b', 'dep-c'] }));
    }
  });
  after(async () => {
    await Promise.all(healths.map((h) => h.close()));
    await Promise.all(connections.map((c) => c.close()));
    await deleteRedisKeys(prefix);
  });

  test('failures counted across instances cool the deployment down on every instance', async () => {
    const [a, b] = healths;
    await a.recordFailure('dep-a');
    await b.recordFailure('dep-a');
    assert.equal(a.isCoolingDown('dep-a'), false, 'two failures are under allowed_fails');
    await a.recordFailure('dep-a');
    assert.equal(a.isCoolingDown('dep-a'), true, 'the instance that saw the third failure cools at once');
    await waitFor(() => b.isCoolingDown('dep-a'), 2_000, 'the other instance to hear of the cooldown');
    assert.deepEqual([...b.coolingDown(['dep-a', 'dep-b'])], ['dep-a']);
  });

  test("allowed_fails_policy: the failure's class sets the count at which every instance cools the deployment down", async () => {
    const [a, b] = healths;
    await a.recordFailure('dep-p', undefined, 5);
    await b.recordFailure('dep-p', undefined, 5);
    await a.recordFailure('dep-p', undefined, 5);
    assert.equal(a.isCoolingDown('dep-p'), false, 'three failures of a class allowing five');
    await b.recordFailure('dep-p');
    assert.equal(b.isCoolingDown('dep-p'), true, 'the fourth, of a class with allowed_fails 3, is over it');
    await waitFor(() => a.isCoolingDown('dep-p'), 2_000, 'the other instance to hear of the cooldown');
  });

  test("a deployment's own cooldown_time is the cooldown every instance keeps for it", async () => {
    const [a, b] = healths;
    for (let i = 0; i < 3; i++) await a.recordFailure('dep-c', 60_000);
    await waitFor(() => b.isCoolingDown('dep-c'), 2_000, 'the other instance to hear of the cooldown');
    const ends = b.cooldownEnds(['dep-c']);
    assert.ok((ends.get('dep-c') ?? 0) - Date.now() > 50_000, `cooling for the deployment's 60 s, not the policy's 5 s: ${(ends.get('dep-c') ?? 0) - Date.now()} ms left`);
  });

  test('reading cooldowns costs no round trip: the answer is synchronous', () => {
    const answer = healths[0].coolingDown(['dep-a', 'dep-b']);
    assert.ok(!(answer instanceof Promise));
  });

  test('an instance that starts later sees cooldowns already in force', async () => {
    for (let i = 0; i < 3; i++) await healths[0].recordFailure('dep-b');
    const redis = await connectTestRedis(prefix);
    const late = await RedisDeploymentHealth.start(redis, { policy, deploymentIds: ['dep-b'] });
    try {
      assert.equal(late.isCoolingDown('dep-b'), true);
    } finally {
      await late.close();
      await redis.close();
    }
  });
});

describe('losing redis', () => {
  test('limits and cooldowns fail open at once with a warning, and are shared again once redis is back', async () => {
    const prefix = uniqueRedisPrefix('outage');
    const relay = await startRedisRelay();
    const { logger, lines } = capturingLogger();
    const redis = await connectTestRedis(prefix, logger, relay.url);
    const limiter = new RedisRateLimiter(redis);
    const health = await RedisDeploymentHealth.start(redis, { policy: { allowedFails: 1, cooldownMs: 60_000, windowMs: MINUTE }, deploymentIds: ['dep'] });
    try {
      assert.equal((await limiter.tryAcquire('outage', 1, 1, MINUTE)).granted, true);
      assert.equal((await limiter.tryAcquire('outage', 1, 1, MINUTE)).granted, false, 'the limit holds while redis is up');

      await relay.stop();
      const started = Date.now();
      const decision = await limiter.tryAcquire('outage', 1, 1, MINUTE);
      assert.equal(decision.granted, true, 'fails open');
      assert.equal(await limiter.usage('outage', MINUTE), 0);
      await limiter.record('outage', 5, MINUTE);
      await health.recordFailure('dep');
      assert.ok(Date.now() - started < 3_000, `the calls failed fast (${Date.now() - started} ms)`);
      assert.equal(health.isCoolingDown('dep'), true, 'a failure is still counted, locally');
      assert.ok(lines.some((line) => (line.level === 'warn' || line.level === 40) && String(line.msg).startsWith('redis:')), 'a warning was logged');

      await relay.start();
      await waitFor(() => redis.ready, 10_000, 'the reconnection');
      assert.equal((await limiter.tryAcquire('outage', 1, 1, MINUTE)).granted, false, 'the shared counter applies again');
    } finally {
      await health.close();
      await redis.close();
      await relay.stop();
      await deleteRedisKeys(prefix);
    }
  });

  test('an unreachable redis at start does not stop the gateway from starting', async () => {
    const relay = await startRedisRelay();
    await relay.stop();
    const { logger, lines } = capturingLogger();
    const started = Date.now();
    const redis = await connectTestRedis(uniqueRedisPrefix('down'), logger, relay.url);
    try {
      assert.ok(Date.now() - started < 3_000);
      assert.equal(redis.ready, false);
      assert.equal((await new RedisRateLimiter(redis).tryAcquire('k', 1, 0, MINUTE)).granted, true);
      assert.ok(lines.some((line) => String(line.msg).includes('not reachable at start')));
    } finally {
      await redis.close();
    }
  });
});
