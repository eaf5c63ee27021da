import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load-config.ts';
import { LocalResponseCache } from './local-response-cache.ts';
import { acceptable, cacheUseOf, DEFAULT_CACHED_CALL_TYPES, type ResponseCacheSettings } from './response-cache.ts';

const ON: ResponseCacheSettings = { ttlSeconds: 600, callTypes: new Set(DEFAULT_CACHED_CALL_TYPES), mode: 'default_on' };

describe('response cache keys and controls', () => {
  it('the key is the model group and the body, in any key order, without user, metadata and the controls', () => {
    const key = (body: Record<string, unknown>, model = 'g') => cacheUseOf('/chat/completions', model, body, ON)?.key;
    const base = key({ model: 'g', messages: [{ role: 'user', content: 'hi' }], temperature: 0 });
    assert.equal(key({ temperature: 0, messages: [{ role: 'user', content: 'hi' }], model: 'g', user: 'u', metadata: { x: 1 }, cache: { ttl: 5 } }), base);
    assert.equal(key({ model: 'g', messages: [{ role: 'user', content: 'hi' }], temperature: 0, stream: false }), base, 'stream: false is the same request');
    assert.notEqual(key({ model: 'g', messages: [{ role: 'user', content: 'hi' }], temperature: 1 }), base);
    assert.notEqual(key({ model: 'g', messages: [{ role: 'user', content: 'hi' }], temperature: 0 }, 'other-group'), base);
    assert.notEqual(cacheUseOf('/embeddings', 'g', { model: 'g', messages: [{ role: 'user', content: 'hi' }], temperature: 0 }, ON)?.key, base);
  });

  it('streams other than a chat completion\'s, call types not configured and, in default_off mode, requests that do not ask take no part', () => {
    assert.equal(cacheUseOf('/chat/completions', 'g', { stream: true }, ON)?.key, cacheUseOf('/chat/completions', 'g', {}, ON)?.key, 'a streamed chat completion shares the entry of the same request unstreamed');
    assert.equal(cacheUseOf('/completions', 'g', { stream: true }, ON), undefined);
    assert.equal(cacheUseOf('/responses', 'g', {}, ON), undefined, "responses are not among LiteLLM's default call types");
    assert.ok(cacheUseOf('/embeddings', 'g', {}, ON));
    assert.equal(cacheUseOf('/embeddings', 'g', {}, { ...ON, callTypes: new Set(['acompletion']) }), undefined);
    assert.ok(cacheUseOf('/rerank', 'g', { query: 'q', documents: ['a'] }, ON), "rerank is among LiteLLM's default call types");
    assert.equal(cacheUseOf('/rerank', 'g', {}, { ...ON, callTypes: new Set(['aembedding']) }), undefined);
    const off = { ...ON, mode: 'default_off' as const };
    assert.equal(cacheUseOf('/chat/completions', 'g', {}, off), undefined);
    assert.ok(cacheUseOf('/chat/completions', 'g', { cache: { 'use-cache': true } }, off));
  });

  it("a request's controls: no-cache, no-store, ttl, s-maxage", () => {
    assert.deepEqual(
      cacheUseOf('/chat/completions', 'g', { cache: { 'no-cache': true, 'no-store': true, ttl: 30, 's-maxage': 2 } }, ON),
      { key: cacheUseOf('/chat/completions', 'g', {}, ON)!.key, read: false, write: false, ttlSeconds: 30, maxAgeMs: 2000 },
    );
    const use = cacheUseOf('/chat/completions', 'g', { cache: { 's-maxage': 2 } }, ON)!;
    assert.equal(acceptable({ text: '{}', storedAt: 10_000 }, use, 11_999), true);
    assert.equal(acceptable({ text: '{}', storedAt: 10_000 }, use, 12_001), false);
    assert.equal(acceptable(undefined, use, 0), false);
  });
});

describe('the local response cache', () => {
  it('drops an answer when its ttl passes, and the least recently used first when full', async () => {
    let now = 0;
    const cache = new LocalResponseCache({ maxEntries: 2, maxBytes: 1_000 }, () => now);
    await cache.set('a', { text: 'A', storedAt: 0 }, 10);
    await cache.set('b', { text: 'B', storedAt: 0 }, 100);
    assert.equal((await cache.get('a'))?.text, 'A');
    await cache.set('c', { text: 'C', storedAt: 0 }, 100);
    assert.equal(await cache.get('b'), undefined, 'b was the least recently used');
    now = 10_000;
    assert.equal(await cache.get('a'), undefined, 'past its ttl');
    assert.equal((await cache.get('c'))?.text, 'C');
    await cache.set('big', { text: 'x'.repeat(600), storedAt: 0 }, 100);
    assert.equal(await cache.get('big'), undefined, 'larger than the whole cache: not kept');
    await cache.set('mid', { text: 'y'.repeat(400), storedAt: 0 }, 100);
    assert.equal(cache.size, 2);
  });
});

describe("litellm_settings.cache in the config", () => {
  it("defaults as LiteLLM's proxy does: Redis (at cache_params.host or REDIS_HOST), 600 s, the default call types, default_on", () => {
    const config = parseConfig('model_list: []\nlitellm_settings:\n  cache: true\n', { REDIS_HOST: 'cache.internal', REDIS_PASSWORD: 'p w' });
    assert.deepEqual(config.responseCache, { type: 'redis', redisUrl: 'redis://:p%20w@cache.internal:6379', ttlSeconds: 600, callTypes: DEFAULT_CACHED_CALL_TYPES, mode: 'default_on' });
    assert.deepEqual(config.warnings.filter((warning) => warning.includes('cache')), []);
    const local = parseConfig('model_list: []\nlitellm_settings:\n  cache: true\n  cache_params: {type: local, ttl: 30, supported_call_types: [aembedding], mode: default_off, namespace: ns}\n', {});
    assert.deepEqual(local.responseCache, { type: 'local', namespace: 'ns', ttlSeconds: 30, callTypes: ['aembedding'], mode: 'default_off' });
    assert.equal(parseConfig('model_list: []\nlitellm_settings:\n  cache: false\n', {}).responseCache, undefined);
  });

  it('a cache type Portico lacks turns caching off, warned', () => {
    const config = parseConfig('model_list: []\nlitellm_settings:\n  cache: true\n  cache_params: {type: redis-semantic}\n', {});
    assert.equal(config.responseCache, undefined);
    assert.deepEqual(config.warnings.filter((warning) => warning.includes('cache')), ['litellm_settings.cache_params.type: cache type "redis-semantic" is not supported by Portico (it has "redis" and "local"); responses are not cached']);
  });
});
