import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../../spec/provider.ts';
import { providerSettingsOf } from '../../config/provider-settings.ts';
import { createAnthropicBatches } from './batches.ts';
import { anthropicProvider } from './index.ts';

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'claude-1',
    modelGroup: 'claude',
    providerName: 'anthropic',
    upstreamModel: 'claude-3-5-haiku-20241022',
    apiKey: 'sk-ant-test',
    timeoutMs: 30_000,
    maxRetries: 0,
    weight: 1,
    batchMode: 'native',
    pricing: {},
    params: {},
    settings: undefined,
    ...overrides,
  };
}

/** The config problems of these params (`<key>: <message>`), as the config loader reports them. */
function problemsOf(params: Record<string, unknown>): string[] {
  try {
    providerSettingsOf(anthropicProvider, params);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').map((line) => line.replace(/^litellm_params\./, ''));
  }
}

test('the provider serves the anthropic prefix with native batches', () => {
  assert.deepEqual(anthropicProvider.names, ['anthropic']);
  assert.equal(anthropicProvider.defaultBatchMode, 'native');
});

test('a valid deployment has no problems, and max_tokens may come as a numeric string', () => {
  assert.deepEqual(problemsOf({ api_key: 'sk-ant-test' }), []);
  assert.deepEqual(problemsOf({ api_key: 'sk-ant-test', max_tokens: '8192' }), []);
  assert.equal(providerSettingsOf(anthropicProvider, { api_key: 'k', max_tokens: '8192' }).defaultMaxTokens, 8192);
});

test('a bad api_base or max_tokens is reported at those keys; no key is no problem (LiteLLM asks for one only when a call goes out)', () => {
  const problems = problemsOf({ api_base: 'ftp://api.anthropic.com', max_tokens: 0 });
  assert.deepEqual(problems.map((problem) => problem.split(':')[0]), ['api_base', 'max_tokens']);
  assert.deepEqual(problemsOf({}), []);
  assert.equal(providerSettingsOf(anthropicProvider, {}).apiKey, undefined);
});

test("api_base is read as LiteLLM reads it: a messages URL is that URL, anything else gets /v1/messages appended, a /v1 base too (with a warning)", () => {
  const root = (apiBase: string) => providerSettingsOf(anthropicProvider, { api_base: apiBase }).apiBase;
  assert.equal(root('https://api.anthropic.com/'), 'https://api.anthropic.com');
  assert.equal(root('http://proxy.test:8080/anthropic/v1/messages'), 'http://proxy.test:8080/anthropic', 'calls http://proxy.test:8080/anthropic/v1/messages');
  assert.equal(root('http://proxy.test:8790/v1'), 'http://proxy.test:8790/v1', 'calls http://proxy.test:8790/v1/v1/messages, as LiteLLM');
  const warningsOf = (apiBase: string) => anthropicProvider.warnings?.(deployment(), providerSettingsOf(anthropicProvider, { api_base: apiBase })) ?? [];
  assert.deepEqual(warningsOf('https://api.anthropic.com'), []);
  assert.deepEqual(warningsOf('http://proxy.test:8080/anthropic/v1/messages'), []);
  const [warning] = warningsOf('http://proxy.test:8790/v1/');
  assert.match(warning, /^api_base: "http:\/\/proxy\.test:8790\/v1" ends in \/v1, .*requests go to http:\/\/proxy\.test:8790\/v1\/v1\/messages/);
});

test('a client offers chat and staged batches, and no embeddings, responses or files', () => {
  const client = anthropicProvider.createClient(deployment(), providerSettingsOf(anthropicProvider, { api_key: 'sk-ant-test' }));
  assert.equal(typeof client.chatCompletions, 'function');
  assert.equal(typeof client.chatCompletionsStream, 'function');
  assert.equal(client.batches?.kind, 'staged');
  assert.equal(client.batchLineModel, 'claude-3-5-haiku-20241022');
  assert.equal(client.embeddings, undefined);
  assert.equal(client.responses, undefined);
  assert.equal(client.files, undefined);
});

test('staging cuts the lines into inline parts under the request and byte limits, in one pass', async () => {
  const endpoint = { apiBase: 'http://127.0.0.1:9', apiKey: 'k', timeoutMs: 1000, deploymentId: 'd', extraHeaders: {} };
  const translation = { model: 'claude-3-5-haiku-20241022', defaultMaxTokens: 1024, modifyParams: false };
  const line = (i: number, text = 'hi') => ({ custom_id: `r${i}`, method: 'POST' as const, url: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: text }] } });
  let reads = 0;
  const lines = (items: ReturnType<typeof line>[]) => () => {
    reads += 1;
    return items;
  };
  const context = { batchId: 'batch_x', endpoint: '/v1/chat/completions', completionWindow: '24h' };
  const byCount = createAnthropicBatches(endpoint, translation, { maxRequests: 3, maxBytes: 1 << 20 });
  const seven = Array.from({ length: 7 }, (_, i) => line(i));
  assert.deepEqual(await byCount.stage(lines(seven), context), [
    { location: 'inline', start: 0, end: 3 },
    { location: 'inline', start: 3, end: 6 },
    { location: 'inline', start: 6, end: 7 },
  ]);
  assert.equal(reads, 1);
  // A line of ~1 KB against a 4 KB limit (cut at three quarters of it): three lines a part.
  const lineBytes = Buffer.byteLength(JSON.stringify(line(0, 'x'.repeat(1000))));
  const byBytes = createAnthropicBatches(endpoint, translation, { maxRequests: 100, maxBytes: Math.ceil((lineBytes * 3.5) / 0.75) });
  const parts = await byBytes.stage(lines(Array.from({ length: 7 }, (_, i) => line(i, 'x'.repeat(1000)))), context);
  assert.deepEqual(parts.map((part) => [part.start, part.end]), [[0, 3], [3, 6], [6, 7]]);
  await assert.rejects(byCount.stage(lines(seven), { ...context, endpoint: '/v1/embeddings' }), /only \/v1\/chat\/completions/);
});
