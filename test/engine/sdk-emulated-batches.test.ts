/**
 * Emulated batches through the official `openai` SDK against a running Portico: the same calls
 * a client makes against OpenAI (files.create, batches.create, batches.retrieve until done,
 * files.content), on a `mock/` deployment and on a `hosted_vllm/` deployment served by the
 * OpenAI simulator. Every body is checked against OpenAI's own schemas.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import type { SqlDialectName } from '../../src/storage/database.ts';
import { validateBatchLine, validateOpenAI } from '../helpers/openai-schemas.ts';
import { startPorticoWithStorage, type PorticoWithStorage } from '../helpers/portico.ts';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-engine-sdk-master-0123456789';

function jsonl(model: string, count: number, failing: readonly number[] = [], url = '/v1/chat/completions'): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      custom_id: `request-${i}`,
      method: 'POST',
      url,
      body: { model, messages: [{ role: 'user', content: failing.includes(i) ? 'FAIL' : `Say ${i}` }] },
    }),
  ).join('\n');
}

async function runBatch(client: OpenAI, model: string, count: number, failing: readonly number[] = [], url?: string) {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(model, count, failing, url)), 'requests.jsonl'), purpose: 'batch' });
  assert.deepEqual(validateOpenAI('OpenAIFile', file), []);
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: model } });
  assert.deepEqual(validateOpenAI('Batch', created), []);
  assert.equal(created.status, 'validating');
  assert.equal(created.endpoint, '/v1/chat/completions');
  let batch = created;
  const deadline = Date.now() + 30_000;
  while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
    assert.ok(Date.now() < deadline, `batch still ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    batch = await client.batches.retrieve(created.id);
    assert.deepEqual(validateOpenAI('Batch', batch), []);
  }
  const read = async (id: string | null | undefined) => {
    if (!id) return [];
    const text = await (await client.files.content(id)).text();
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { id: string; custom_id: string; response: { status_code: number; body: Record<string, unknown> } | null; error: unknown });
  };
  return { batch, output: await read(batch.output_file_id), errors: await read(batch.error_file_id) };
}

for (const dialect of ['sqlite', 'postgres'] as SqlDialectName[]) {
  describe(`emulated batches through the openai SDK [${dialect}]`, () => {
    let upstream: OpenAISimulator;
    let portico: PorticoWithStorage;
    before(async () => {
      upstream = await startOpenAISimulator();
      portico = await startPorticoWithStorage(
        (storageDir) => `
model_list:
  - model_name: local-llama
    litellm_params:
      model: hosted_vllm/llama-3.1-8b
      api_base: ${upstream.url}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
  - model_name: mock-model
    litellm_params:
      model: mock/mock-model
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${storageDir}
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
`,
        { dialect },
      );
    });
    after(async () => {
      await portico.close();
      await upstream.close();
    });

    test('an emulated batch on a mock/ deployment runs end to end through the SDK', async () => {
      const { batch, output, errors } = await runBatch(portico.client(), 'mock-model', 12);
      assert.equal(batch.status, 'completed');
      assert.equal(batch.model, 'mock-model');
      assert.deepEqual(batch.metadata, { run: 'mock-model' });
      assert.deepEqual(batch.request_counts, { total: 12, completed: 12, failed: 0 });
      assert.equal(batch.error_file_id, null);
      assert.deepEqual(errors, []);
      assert.deepEqual(output.map((l) => l.custom_id), Array.from({ length: 12 }, (_, i) => `request-${i}`));
      for (const line of output) {
        assert.deepEqual(validateBatchLine('BatchRequestOutput', line), []);
        assert.equal(line.response?.status_code, 200);
      }
      assert.ok((batch.usage?.total_tokens ?? 0) > 0);
      const outputFile = await portico.client().files.retrieve(batch.output_file_id!);
      assert.equal(outputFile.purpose, 'batch_output');
    });

    test('an emulated batch on a hosted_vllm/ deployment runs against the OpenAI-compatible server through the SDK', async () => {
      const { batch, output, errors } = await runBatch(portico.client(), 'local-llama', 10, [4]);
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: 10, completed: 9, failed: 1 });
      assert.deepEqual(errors.map((l) => l.custom_id), ['request-4']);
      assert.equal(errors[0].response?.status_code, 400);
      assert.deepEqual(validateBatchLine('BatchRequestOutput', errors[0]), []);
      assert.equal(output.length, 9);
      for (const line of output) assert.deepEqual(validateBatchLine('BatchRequestOutput', line), []);
      // The upstream saw plain chat completions for its own model: no batch API involved.
      const chats = upstream.requests.filter((r) => r.path === '/v1/chat/completions');
      assert.equal(chats.length, 10);
      assert.ok(chats.every((r) => (r.json as { model: string }).model === 'llama-3.1-8b'));
      assert.equal(upstream.requests.filter((r) => r.path.startsWith('/v1/batches') || r.path.startsWith('/v1/files')).length, 0);
    });

    test("lines written Azure's way (url /chat/completions, no /v1) run on emulated deployments", async () => {
      for (const model of ['mock-model', 'local-llama']) {
        const { batch, output, errors } = await runBatch(portico.client(), model, 4, [], '/chat/completions');
        assert.equal(batch.status, 'completed', model);
        assert.deepEqual(batch.request_counts, { total: 4, completed: 4, failed: 0 }, model);
        assert.deepEqual(errors, [], model);
        assert.deepEqual(output.map((l) => l.response?.status_code), [200, 200, 200, 200], model);
      }
    });
  });
}
