/**
 * Batches on the OpenAI-compatible presets: on Groq (OpenAI's Batch API under /openai/v1) and
 * Together (OpenAI's in substance: `together/together-config.ts`) they run natively, through the
 * same file executor as OpenAI's; on Mistral (whose batch API is not OpenAI's format) through
 * Portico's batch engine, one chat request per line.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { ALL_DIALECTS } from '../../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { startTogetherSimulator, TOGETHER_SIMULATOR_API_KEY, type TogetherSimulator } from '../../simulators/together-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../simulators/openai-simulator.ts';
import { chatLines, parseJsonl, readContent, uploadBatchFile } from './managed-fixtures.ts';

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

async function waitForEnd(client: OpenAI, batchId: string): Promise<OpenAI.Batches.Batch> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const batch = await client.batches.retrieve(batchId);
    if (TERMINAL.has(batch.status) || Date.now() > deadline) return batch;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('batches on OpenAI-compatible presets', () => {
  let groq: OpenAISimulator;
  let mistral: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    groq = await startOpenAISimulator({ basePath: '/openai/v1', batchStepMs: 20 });
    mistral = await startOpenAISimulator();
    const storage = await mkdtemp(join(tmpdir(), 'portico-presets-'));
    portico = await startPortico(
      `
model_list:
  - {model_name: fast, litellm_params: {model: groq/llama-3.1-8b-instant, api_base: "${groq.origin}/openai/v1", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: small, litellm_params: {model: mistral/mistral-small-latest, api_base: "${mistral.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
general_settings:
  master_key: sk-preset-batches-master-0123456789
portico_settings:
  files: {storage_dir: ${storage}}
  batch: {refresh_after_seconds: 0, poll_interval_ms: 100}
`,
    );
  });
  after(async () => {
    await portico.close();
    await Promise.all([groq.close(), mistral.close()]);
  });

  it("a Groq batch runs on Groq's own Batch API", async () => {
    const client = portico.client();
    const input = await uploadBatchFile(client, chatLines('fast', { count: 2 }));
    const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForEnd(client, batch.id);
    assert.equal(done.status, 'completed');
    assert.equal(groq.batches.size, 1, 'created upstream');
    assert.ok(groq.requests.some((request) => request.path === '/openai/v1/files'));
    const [line] = [...groq.batches.values()];
    assert.equal(line.endpoint, '/v1/chat/completions');
    const output = parseJsonl(await readContent(client, done.output_file_id!));
    assert.deepEqual(output.map((row) => row.custom_id).sort(), ['request-0', 'request-1']);
  });

  it("a Mistral batch runs through Portico's engine, one chat request per line", async () => {
    const client = portico.client();
    const input = await uploadBatchFile(client, chatLines('small', { count: 2 }));
    const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForEnd(client, batch.id);
    assert.equal(done.status, 'completed');
    assert.equal(mistral.batches.size, 0);
    assert.equal(mistral.requests.filter((request) => request.path === '/v1/chat/completions').length, 2);
    const output = parseJsonl(await readContent(client, done.output_file_id!));
    assert.equal(output.length, 2);
  });
});

for (const dialect of ALL_DIALECTS) {
  describe(`batches on Together's Batch API [${dialect}]`, () => {
    let together: TogetherSimulator;
    let portico: PorticoUnderTest;
    before(async () => {
      // Batches advance only when a test says so, so that one can be cancelled before it runs.
      together = await startTogetherSimulator();
      const storage = await mkdtemp(join(tmpdir(), 'portico-together-'));
      portico = await startPortico(
        `
model_list:
  - {model_name: llama, litellm_params: {model: together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo, api_base: "${together.url}", api_key: ${TOGETHER_SIMULATOR_API_KEY}}}
general_settings:
  master_key: sk-preset-batches-master-0123456789
portico_settings:
  files: {storage_dir: ${storage}}
  batch: {refresh_after_seconds: 0, poll_interval_ms: 100}
`,
        { dialect },
      );
    });
    after(async () => {
      await portico.close();
      await together.close();
    });

    it('runs natively: a failed line lands in the error file, under our custom_ids', async () => {
      const client = portico.client();
      const input = await uploadBatchFile(client, chatLines('llama', { count: 3, text: (i) => (i === 1 ? 'FAIL' : `question ${i}`) }));
      const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { team: 'a' } });
      assert.equal(batch.status, 'validating');
      const [upstream] = [...together.batches.values()].filter((b) => b.status === 'VALIDATING');
      assert.ok(upstream, 'created on Together');
      const upload = together.requests.find((request) => request.path === '/v1/files/upload');
      assert.ok(upload, 'uploaded through /files/upload');
      assert.equal(together.files.get(upstream.input_file_id)?.purpose, 'batch-api');
      // Together's create takes no metadata; the model of every line is Together's.
      const create = together.requests.find((request) => request.method === 'POST' && request.path === '/v1/batches');
      assert.deepEqual(Object.keys(create!.json as object).sort(), ['completion_window', 'endpoint', 'input_file_id']);
      const copied = parseJsonl(together.files.get(upstream.input_file_id)!.content.toString('utf8'));
      assert.ok(copied.every((line) => (line.body as { model: string }).model === 'meta-llama/Llama-3.3-70B-Instruct-Turbo'));
      await together.advanceBatches();
      await together.advanceBatches();
      const done = await waitForEnd(client, batch.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      assert.deepEqual(done.metadata, { team: 'a' });
      assert.ok(done.completed_at);
      const output = parseJsonl(await readContent(client, done.output_file_id!));
      assert.deepEqual(output.map((row) => row.custom_id).sort(), ['request-0', 'request-2']);
      const errors = parseJsonl(await readContent(client, done.error_file_id!));
      assert.deepEqual(errors.map((row) => row.custom_id), ['request-1']);
    });

    it('cancels natively', async () => {
      const client = portico.client();
      const input = await uploadBatchFile(client, chatLines('llama', { count: 2 }));
      const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const cancelling = await client.batches.cancel(batch.id);
      assert.ok(['cancelling', 'cancelled'].includes(cancelling.status), cancelling.status);
      const done = await waitForEnd(client, batch.id);
      assert.equal(done.status, 'cancelled');
      assert.ok([...together.batches.values()].some((b) => b.status === 'CANCELLED'));
      assert.ok(together.requests.some((request) => /^\/v1\/batches\/[^/]+\/cancel$/.test(request.path)));
    });
  });
}
