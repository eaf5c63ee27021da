import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohereProvider } from './index.ts';
import { cohereSettingsSchema } from './settings.ts';

function parse(params: Record<string, unknown>) {
  return cohereSettingsSchema.safeParse(params);
}

test('without api_base the root is https://api.cohere.com; the key is optional', () => {
  const parsed = parse({});
  assert.ok(parsed.success);
  assert.equal(parsed.data.apiBase, 'https://api.cohere.com');
  assert.equal(parsed.data.apiKey, undefined);
  assert.deepEqual(parsed.data.extraHeaders, {});
});

test("LiteLLM-style bases with a version or an endpoint are read as the root they are under", () => {
  for (const base of [
    'https://api.cohere.ai',
    'https://api.cohere.ai/',
    'https://api.cohere.ai/v1',
    'https://api.cohere.ai/v2/',
    'https://api.cohere.ai/v1/chat',
    'https://api.cohere.ai/v2/chat',
    'https://api.cohere.ai/v1/embed',
    'https://api.cohere.ai/v2/embed',
    'https://api.cohere.ai/v1/rerank',
    'https://api.cohere.ai/v2/rerank',
  ]) {
    const parsed = parse({ api_base: base });
    assert.ok(parsed.success, base);
    assert.equal(parsed.data.apiBase, 'https://api.cohere.ai', base);
  }
  const proxied = parse({ api_base: 'http://127.0.0.1:8080/cohere/v2' });
  assert.ok(proxied.success);
  assert.equal(proxied.data.apiBase, 'http://127.0.0.1:8080/cohere');
});

test("an api_base that is not an http(s) URL, or Cohere's OpenAI-compatible endpoint, is refused at its key", () => {
  for (const [base, message] of [
    ['not a url', /is not a URL/],
    ['ftp://api.cohere.ai', /http\(s\)/],
    ['https://api.cohere.ai/compatibility/v1', /OpenAI-compatible endpoint; use it as `openai\/<model>`/],
  ] as const) {
    const parsed = parse({ api_base: base });
    assert.equal(parsed.success, false, base);
    assert.deepEqual(parsed.error!.issues[0].path, ['api_base']);
    assert.match(parsed.error!.issues[0].message, message);
  }
});

test('the provider serves cohere/ and cohere_chat/, reads COHERE_API_KEY then CO_API_KEY, and emulates batches', () => {
  assert.deepEqual(cohereProvider.names, ['cohere', 'cohere_chat']);
  assert.equal(cohereProvider.defaultBatchMode, 'emulate');
  assert.deepEqual(cohereProvider.environmentDefaults?.('cohere'), { apiKey: ['COHERE_API_KEY', 'CO_API_KEY'], apiBase: ['COHERE_API_BASE'] });
  const unsupported = cohereProvider.unsupportedParams?.('cohere') ?? [];
  for (const param of ['n', 'logprobs', 'top_logprobs', 'logit_bias', 'user', 'parallel_tool_calls']) assert.ok(unsupported.includes(param), param);
  for (const param of ['temperature', 'top_p', 'stop', 'tools', 'tool_choice', 'seed', 'response_format', 'max_tokens']) assert.ok(!unsupported.includes(param), param);
});

test('batch_mode: native is refused: Cohere has no OpenAI-style batch API', () => {
  const settings = cohereSettingsSchema.parse({});
  const problems = cohereProvider.validate?.({ batchMode: 'native' } as Parameters<NonNullable<typeof cohereProvider.validate>>[0], settings) ?? [];
  assert.match(problems[0] ?? '', /^batch_mode: Cohere has no OpenAI-style batch API; use batch_mode: emulate$/);
  assert.deepEqual(cohereProvider.validate?.({ batchMode: 'emulate' } as Parameters<NonNullable<typeof cohereProvider.validate>>[0], settings), []);
});
