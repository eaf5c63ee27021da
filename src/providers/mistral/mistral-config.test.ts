import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MISTRAL_SIMULATOR_API_KEY, startMistralSimulator, type MistralSimulator } from '../../../test/simulators/mistral-simulator.ts';
import type { FileBatchesCapability, ProviderClient } from '../../spec/provider.ts';
import { openaiCompatibleProviders } from '../openai-compatible/index.ts';
import { deploymentFrom, withSettings } from '../testing/provider-test-helpers.ts';
import { normalizeMistralJob, timeoutHoursOf } from './mistral-config.ts';

describe("Mistral's batch job in OpenAI's words", () => {
  it('maps statuses, counts, times and metadata', () => {
    const job = normalizeMistralJob(
      { id: 'j1', status: 'SUCCESS', created_at: 100, started_at: 110, completed_at: 200, total_requests: 3, completed_requests: 3, succeeded_requests: 2, failed_requests: 1, output_file: 'o', error_file: 'e', errors: [{ message: 'Some requests failed', count: 1 }], metadata: { team: 'a', n: 1 } },
      'mistral',
    );
    assert.equal(job.status, 'completed');
    assert.deepEqual([job.createdAt, job.inProgressAt, job.completedAt, job.failedAt], [100, 110, 200, null]);
    assert.deepEqual(job.requestCounts, { total: 3, completed: 2, failed: 1 });
    assert.deepEqual([job.outputFileId, job.errorFileId], ['o', 'e']);
    assert.equal(job.errors, null, "a job that succeeded has no batch errors, only failed lines");
    assert.deepEqual(job.metadata, { team: 'a' });
    const statuses = ['QUEUED', 'RUNNING', 'FAILED', 'TIMEOUT_EXCEEDED', 'CANCELLATION_REQUESTED', 'CANCELLED', 'NEW_ONE'].map((status) => normalizeMistralJob({ id: 'j', status }, 'mistral').status);
    assert.deepEqual(statuses, ['validating', 'in_progress', 'failed', 'expired', 'cancelling', 'cancelled', 'in_progress']);
    const failed = normalizeMistralJob({ id: 'j', status: 'FAILED', completed_at: 5, errors: [{ message: 'bad file', count: 1 }] }, 'mistral');
    assert.equal(failed.failedAt, 5);
    assert.deepEqual(failed.errors, [{ code: 'batch_failed', message: 'bad file', param: null, line: null }]);
  });

  it("turns OpenAI's completion window into timeout_hours", () => {
    assert.equal(timeoutHoursOf('24h'), 24);
    assert.equal(timeoutHoursOf('48h'), 48);
    assert.equal(timeoutHoursOf('1d'), undefined);
  });
});

describe('the mistral preset against the Mistral simulator', () => {
  let sim: MistralSimulator;
  let client: ProviderClient;
  before(async () => {
    sim = await startMistralSimulator();
    client = openaiCompatibleProviders.find((p) => p.names.includes('mistral'))!.createClient(...withSettings(deploymentFrom(`{model: mistral/mistral-small-latest, api_base: "${sim.url}", api_key: ${MISTRAL_SIMULATOR_API_KEY}}`, 'small')));
  });
  after(() => sim.close());

  it("writes lines in Mistral's format and creates, lists, cancels jobs under /batch/jobs", async () => {
    const batches = client.batches as FileBatchesCapability;
    assert.deepEqual(batches.inputLine!({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'mistral-small-latest', messages: [] } }), { custom_id: 'a', body: { messages: [] } });
    const content = Buffer.from(`${JSON.stringify({ custom_id: 'a', body: { messages: [{ role: 'user', content: 'hi' }] } })}\n`);
    const file = await client.files!.upload({ content: Readable.from([content]), filename: 'fcp_1-input.jsonl', purpose: 'batch', bytes: content.length });
    assert.equal(file.bytes, content.length);
    assert.equal(sim.files.get(file.id)?.purpose, 'batch');
    const created = await batches.create({ providerInputFileId: file.id, endpoint: '/v1/chat/completions', completionWindow: '24h', metadata: { portico_batch_id: 'batch_x' } });
    assert.equal(created.status, 'validating');
    assert.deepEqual(sim.requests.at(-1)?.json, { input_files: [file.id], endpoint: '/v1/chat/completions', model: 'mistral-small-latest', metadata: { portico_batch_id: 'batch_x' }, timeout_hours: 24 });
    const page = await batches.list({ limit: 100 });
    assert.equal(page.batches.find((b) => b.id === created.id)?.metadata?.portico_batch_id, 'batch_x', 'found again by its marker');
    assert.equal((await batches.cancel(created.id)).status, 'cancelling');
    await sim.advanceBatches();
    assert.equal((await batches.retrieve(created.id)).status, 'cancelled');
  });
});
