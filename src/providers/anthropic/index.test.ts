import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from '../../spec/provider.ts';
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
    ...overrides,
  };
}

test('the provider serves the anthropic prefix with native batches', () => {
  assert.deepEqual(anthropicProvider.names, ['anthropic']);
  assert.equal(anthropicProvider.defaultBatchMode, 'native');
});

test('a valid deployment has no problems, and max_tokens may come as a numeric string', () => {
  assert.deepEqual(anthropicProvider.validate!(deployment()), []);
  assert.deepEqual(anthropicProvider.validate!(deployment({ params: { max_tokens: '8192' } })), []);
});

test('a deployment without a key, with a /v1 api_base or a bad max_tokens is reported at those keys', () => {
  const problems = anthropicProvider.validate!(
    deployment({ apiKey: undefined, apiBase: 'https://api.anthropic.com/v1', params: { max_tokens: 0 } }),
  );
  assert.deepEqual(problems.map((problem) => problem.split(':')[0]), ['api_key', 'api_base', 'max_tokens']);
});

test('a client offers chat and inline batches, and no embeddings, responses or files', () => {
  const client = anthropicProvider.createClient(deployment());
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
