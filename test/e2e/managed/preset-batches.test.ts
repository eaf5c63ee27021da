/**
 * Batches on the OpenAI-compatible presets: on Groq (OpenAI's Batch API under /openai/v1) they
 * run natively, through the same file executor as OpenAI's; on Mistral (whose batch API is not
 * OpenAI's format) through Portico's batch engine, one chat request per line.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
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
