import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startTogetherSimulator, TOGETHER_SIMULATOR_API_KEY, type TogetherSimulator } from '../../../test/simulators/together-simulator.ts';
import type { FileBatchesCapability, ProviderClient } from '../../spec/provider.ts';
import { openaiCompatibleProviders } from '../openai-compatible/index.ts';
import { deploymentFrom, withSettings } from '../testing/provider-test-helpers.ts';
import { normalizeTogetherBatch } from './together-config.ts';

describe("Together's batch object in OpenAI's words", () => {
  it('unwraps a create answer, maps the status and turns ISO times into seconds', () => {
    const batch = normalizeTogetherBatch(
      { job: { id: 'b1', status: 'COMPLETED', created_at: '2024-01-15T14:30:00Z', completed_at: '2024-01-15T15:45:30Z', job_deadline: '2024-01-16T14:30:00Z', output_file_id: 'file-o', error_file_id: '', progress: 100 }, warning: 'w' },
      'together_ai',
    );
    assert.equal(batch.id, 'b1');
    assert.equal(batch.status, 'completed');
    assert.equal(batch.rawStatus, 'COMPLETED');
    assert.equal(batch.createdAt, Date.parse('2024-01-15T14:30:00Z') / 1000);
    assert.equal(batch.completedAt, Date.parse('2024-01-15T15:45:30Z') / 1000);
    assert.equal(batch.expiresAt, Date.parse('2024-01-16T14:30:00Z') / 1000);
    assert.equal(batch.outputFileId, 'file-o');
    assert.equal(batch.errorFileId, null, "an empty id is no file");
    assert.deepEqual(batch.requestCounts, { total: 0, completed: 0, failed: 0 }, 'counted from the result files instead');
  });

  it('puts the end time where the end was, and a failure into errors', () => {
    const failed = normalizeTogetherBatch({ id: 'b2', status: 'FAILED', completed_at: '2024-01-15T15:00:00Z', error: 'bad input' }, 'together_ai');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.completedAt, null);
    assert.equal(failed.failedAt, Date.parse('2024-01-15T15:00:00Z') / 1000);
    assert.deepEqual(failed.errors, [{ code: 'batch_failed', message: 'bad input', param: null, line: null }]);
    const cancelled = normalizeTogetherBatch({ id: 'b3', status: 'CANCELLED', completed_at: '0001-01-01T00:00:00Z' }, 'together_ai');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.cancelledAt, null, "Go's zero time is no time");
    assert.equal(normalizeTogetherBatch({ id: 'b4', status: 'SOMETHING_NEW' }, 'together_ai').status, 'in_progress', 'unknown: keep polling');
  });
});

describe('the together_ai preset against the Together simulator', () => {
  let sim: TogetherSimulator;
  let client: ProviderClient;
  before(async () => {
    sim = await startTogetherSimulator();
    const provider = openaiCompatibleProviders.find((p) => p.names.includes('together_ai'))!;
    assert.equal(provider.defaultBatchMode, 'native');
    client = provider.createClient(...withSettings(deploymentFrom(`{model: together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo, api_base: "${sim.url}", api_key: ${TOGETHER_SIMULATOR_API_KEY}}`, 'llama')));
  });
  after(() => sim.close());

  it('uploads with purpose=batch-api and file_name, creates without metadata, lists and cancels', async () => {
    const content = Buffer.from(`${JSON.stringify({ custom_id: 'a', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } })}\n`);
    const file = await client.files!.upload({ content: Readable.from([content]), filename: 'fcp_1-input.jsonl', purpose: 'batch', bytes: content.length });
    assert.equal(sim.files.get(file.id)?.purpose, 'batch-api');
    assert.equal(sim.files.get(file.id)?.filename, 'fcp_1-input.jsonl');
    assert.equal(file.purpose, 'batch', "Portico's word for it");
    const listed = await client.files!.list({ purpose: 'batch', limit: 100 });
    assert.ok(listed.files.some((f) => f.id === file.id && f.filename === 'fcp_1-input.jsonl'));
    const batches = client.batches as FileBatchesCapability;
    assert.equal(batches.keepsMetadata, false);
    const created = await batches.create({ providerInputFileId: file.id, endpoint: '/v1/chat/completions', completionWindow: '24h', metadata: { portico_batch_id: 'batch_x' }, outputExpiresAfterSeconds: 3600 });
    assert.equal(created.status, 'validating');
    assert.deepEqual(sim.requests.at(-1)?.json, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const page = await batches.list({ limit: 100 });
    assert.deepEqual(page.batches.map((b) => b.id), [created.id]);
    assert.equal(page.hasMore, false);
    assert.equal((await batches.cancel(created.id)).status, 'cancelled');
    assert.equal((await batches.retrieve(created.id)).status, 'cancelled');
  });
});
