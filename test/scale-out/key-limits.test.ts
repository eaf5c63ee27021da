/**
 * A virtual key's `rpm_limit` and `tpm_limit` through the HTTP API (one instance, in memory): accepted
 * and shown by the key routes, enforced on the model routes with OpenAI's 429, not counted on the
 * other routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { keyTpmKey } from '../../src/coordination/live-rate-limits.ts';
import { BATCH_REQUEST_ID_PREFIX, RATE_WINDOW_MS, deploymentTpmKey } from '../../src/routing/rate-limits/deployment-budgets.ts';

const CONFIG = `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
general_settings:
  master_key: sk-key-limits-master-0123456789
`;

describe('per-key rate limits through the API', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(CONFIG);
  });
  after(async () => {
    await portico.close();
  });

  test('rpm_limit and tpm_limit are accepted, stored and shown; a bad value is a 400', async () => {
    const key = await portico.generateKey({ rpm_limit: 5, tpm_limit: 1000 });
    assert.equal(key.rpm_limit, 5);
    assert.equal(key.tpm_limit, 1000);
    const info = (await (await portico.fetch(`/key/info?key=${key.key}`)).json()) as { info: Record<string, unknown> };
    assert.equal(info.info.rpm_limit, 5);
    assert.equal(info.info.tpm_limit, 1000);
    const plain = await portico.generateKey({});
    assert.equal(plain.rpm_limit, null);
    const bad = await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rpm_limit: -1 }) });
    assert.equal(bad.status, 400);
  });

  test('over its rpm_limit a key gets OpenAI 429 with retry-after, plain and streamed; other routes are not counted', async () => {
    const key = await portico.generateKey({ rpm_limit: 2 });
    const client = portico.client(key.key);
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'one' }] });
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'two' }] });
    for await (const _chunk of stream) {
      // drained
    }
    const response = await portico.fetch('/v1/chat/completions', {
      apiKey: key.key,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'three' }] }),
    });
    assert.equal(response.status, 429);
    const seconds = Number(response.headers.get('retry-after'));
    assert.ok(seconds >= 1 && seconds <= 120, `retry-after ${seconds}`);
    const body = (await response.json()) as { error: { type: string; code: string; message: string; param: unknown } };
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.equal(body.error.param, null);
    assert.match(body.error.message, /Limit 2/);
    await assert.rejects(client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'four' }] }), OpenAI.RateLimitError);
    assert.equal((await portico.fetch('/v1/models', { apiKey: key.key })).status, 200, '/v1/models is not a model request');
  });

  test('a request refused for what it asks (a model the key may not use, an unknown model, a malformed body) takes none of the rpm_limit', async () => {
    const key = await portico.generateKey({ rpm_limit: 2, models: ['chat'] });
    const post = (body: unknown) =>
      portico.fetch('/v1/chat/completions', { apiKey: key.key, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refusals: Array<[unknown, number]> = [
      [{ model: 'other', messages: [{ role: 'user', content: 'x' }] }, 403],
      [{ model: 'other', messages: [{ role: 'user', content: 'x' }] }, 403],
      [{ model: 'chat', messages: 'not a list' }, 400],
      [{ messages: [{ role: 'user', content: 'x' }] }, 400],
    ];
    for (const [body, status] of refusals) assert.equal((await post(body)).status, status, JSON.stringify(body));
    const unrestricted = portico.client((await portico.generateKey({ rpm_limit: 1 })).key);
    for (let i = 0; i < 2; i++) await assert.rejects(unrestricted.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    await unrestricted.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'counted' }] });
    // Both of the key's requests per minute are still there, and only those.
    const client = portico.client(key.key);
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'one' }] });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'two' }] });
    await assert.rejects(client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'three' }] }), OpenAI.RateLimitError);
  });

  test("a key is refused once its answers' tokens reach its tpm_limit; the master key is never limited", async () => {
    const key = await portico.generateKey({ tpm_limit: 40 });
    const client = portico.client(key.key);
    let used = 0;
    let refused: unknown;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      try {
        const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `tell me about tokens, request ${i}` }] });
        used += answer.usage?.total_tokens ?? 0;
      } catch (error) {
        refused = error;
      }
    }
    assert.ok(refused instanceof OpenAI.RateLimitError, `refused with ${String(refused)}`);
    assert.ok(used >= 40, `refused after ${used} tokens`);
    for (let i = 0; i < 5; i++) await portico.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'master' }] });
  });
});

/**
 * Token accounting keys on Portico's own per-request handle, never on the client's
 * `x-request-id`: a client cannot pass for the batch engine, and requests that share an id are
 * each charged.
 */
describe('token accounting ignores client-chosen request ids', () => {
  const SPOOF_CONFIG = `
model_list:
  - model_name: metered
    litellm_params: { model: mock/metered, tpm: 1000000 }
    model_info: { id: metered-deployment }
  - model_name: slow
    litellm_params: { model: mock/slow, mock_latency_ms: 400 }
  - model_name: fast
    litellm_params: { model: mock/fast }
general_settings:
  master_key: sk-key-limits-master-0123456789
`;
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(SPOOF_CONFIG);
  });
  after(async () => {
    await portico.close();
  });

  const usage = (key: string) => portico.services.limits!.limiter.usage(key, RATE_WINDOW_MS);
  const chat = (apiKey: string, model: string, requestId: string) =>
    portico.fetch('/v1/chat/completions', {
      apiKey,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `tokens for ${model}` }] }),
    });

  test("a request whose x-request-id looks like the batch engine's is still charged to the deployment's tpm", async () => {
    const response = await chat(portico.masterKey!, 'metered', `${BATCH_REQUEST_ID_PREFIX}batch_spoofed-0-1`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), `${BATCH_REQUEST_ID_PREFIX}batch_spoofed-0-1`, 'the id is still echoed');
    const body = (await response.json()) as { usage: { total_tokens: number } };
    assert.ok(body.usage.total_tokens > 0);
    await eventually(async () => assert.equal(await usage(deploymentTpmKey('metered-deployment')), body.usage.total_tokens));
  });

  test("concurrent requests of one key that share an x-request-id are each charged to its tpm_limit", async () => {
    const key = await portico.generateKey({ tpm_limit: 1_000_000 });
    // The fast one ends (and its request is done with) while the slow one is still upstream.
    const [slow, fast] = await Promise.all([chat(key.key, 'slow', 'same-id'), chat(key.key, 'fast', 'same-id')]);
    assert.deepEqual([slow.status, fast.status], [200, 200]);
    const tokens = await Promise.all([slow, fast].map(async (response) => ((await response.json()) as { usage: { total_tokens: number } }).usage.total_tokens));
    await eventually(async () => assert.equal(await usage(keyTpmKey(key.token)), tokens[0] + tokens[1]));
  });
});

async function eventually(check: () => Promise<void>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
