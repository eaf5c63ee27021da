/**
 * Portico with `REDIS_URL`, when Redis goes away and comes back: requests keep being served (the
 * limits fail open, with a warning in the log), nothing hangs, and once Redis is back the shared
 * counters apply again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startPortico } from '../helpers/portico.ts';
import { deleteRedisKeys, startRedisRelay, uniqueRedisPrefix, untilRateLimited } from './redis-helpers.ts';

const CONFIG = `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat, rpm: 1000 }
general_settings:
  master_key: sk-redis-outage-master-0123456789
`;

test('losing redis does not take the gateway down: limits fail open with a warning, and hold again once it is back', async () => {
  const relay = await startRedisRelay();
  const redisPrefix = uniqueRedisPrefix('outage-e2e');
  const portico = await startPortico(CONFIG, { redisUrl: relay.url, redisPrefix });
  try {
    const key = await portico.generateKey({ rpm_limit: 1 });
    const client = portico.client(key.key);
    const ask = () => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await ask();
    await assert.rejects(ask(), OpenAI.RateLimitError, 'the limit holds while redis is up');

    await relay.stop();
    const started = Date.now();
    for (let i = 0; i < 5; i++) await ask();
    assert.ok(Date.now() - started < 5_000, `served without waiting for redis (${Date.now() - started} ms)`);
    assert.ok(portico.logs.some((line) => line.level === 'warn' && String(line.msg).startsWith('redis:')), 'the outage is logged');
    assert.equal((await portico.fetch('/health/readiness', { apiKey: null })).status, 200, 'still ready: redis is not required');

    await relay.start();
    await untilRateLimited(ask, 15_000, 'the shared limit to apply again');
  } finally {
    await portico.close();
    await relay.stop();
    await deleteRedisKeys(redisPrefix);
  }
});
