import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../../spec/provider.ts';
import { providerSettingsOf } from '../../config/provider-settings.ts';
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

test('a deployment without a key, with a /v1 api_base or a bad max_tokens is reported at those keys', () => {
  const problems = problemsOf({ api_base: 'https://api.anthropic.com/v1', max_tokens: 0 });
  assert.deepEqual(problems.map((problem) => problem.split(':')[0]), ['api_key', 'api_base', 'max_tokens']);
});

test('a client offers chat and inline batches, and no embeddings, responses or files', () => {
  const client = anthropicProvider.createClient(deployment(), providerSettingsOf(anthropicProvider, { api_key: 'sk-ant-test' }));
  assert.equal(typeof client.chatCompletions, 'function');
  assert.equal(typeof client.chatCompletionsStream, 'function');
  assert.equal(client.batches?.kind, 'inline');
  assert.equal(client.batchLineModel, 'claude-3-5-haiku-20241022');
  assert.equal(client.embeddings, undefined);
  assert.equal(client.responses, undefined);
  assert.equal(client.files, undefined);
  if (client.batches?.kind === 'inline') {
    assert.equal(client.batches.maxRequestsPerBatch, 100_000);
    assert.equal(client.batches.maxBytesPerBatch, 256 * 1024 * 1024);
  }
});
