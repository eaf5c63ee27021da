/**
 * Batches on the OpenAI-compatible presets: on Groq (OpenAI's Batch API under /openai/v1),
 * Together and Mistral (OpenAI's in substance: `together/together-config.ts`,
 * `mistral/mistral-config.ts`) they run natively, through the same file executor as OpenAI's; on
 * the others (DeepSeek here) through Portico's batch engine, one chat request per line.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { ALL_DIALECTS } from '../../helpers/databases.ts';
import type { SqlDialectName } from '../../../src/storage/database.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { MISTRAL_SIMULATOR_API_KEY, startMistralSimulator, type MistralSimulator } from '../../simulators/mistral-simulator.ts';
import { startTogetherSimulator, TOGETHER_SIMULATOR_API_KEY, type TogetherSimulator } from '../../simulators/together-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../simulators/openai-simulator.ts';
import { chatLines, parseJsonl, readContent, reconcileIntentsOf, uploadBatchFile } from './managed-fixtures.ts';

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

async function waitForEnd(client: OpenAI, batchId: string): Promise<OpenAI.Batches.Batch> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const batch = await client.batches.retrieve(batchId);
    if (TERMINAL.has(batch.status) || Date.now() > deadline) return batch;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Portico serving `modelList` (YAML list entries), its files in a fresh directory, batches polled every 100 ms. */
async function startPresetPortico(modelList: string, storagePrefix: string, dialect?: SqlDialectName): Promise<PorticoUnderTest> {
  const storage = await mkdtemp(join(tmpdir(), storagePrefix));
  return startPortico(
    `
model_list:
${modelList}
general_settings:
  master_key: sk-preset-batches-master-0123456789
portico_settings:
  files: {storage_dir: ${storage}}
  batch: {refresh_after_seconds: 0, poll_interval_ms: 100}
`,
    dialect ? { dialect } : {},
  );
}

describe('batches on OpenAI-compatible presets', () => {
  let groq: OpenAISimulator;
  let deepseek: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    groq = await startOpenAISimulator({ basePath: '/openai/v1', batchStepMs: 20 });
    deepseek = await startOpenAISimulator();
    portico = await startPresetPortico(
      `  - {model_name: fast, litellm_params: {model: groq/llama-3.1-8b-instant, api_base: "${groq.origin}/openai/v1", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: small, litellm_params: {model: deepseek/deepseek-chat, api_base: "${deepseek.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}`,
      'portico-presets-',
    );
  });
  after(async () => {
    await portico.close();
    await Promise.all([groq.close(), deepseek.close()]);
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

  it("a DeepSeek batch runs through Portico's engine, one chat request per line", async () => {
    const client = portico.client();
    const input = await uploadBatchFile(client, chatLines('small', { count: 2 }));
    const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForEnd(client, batch.id);
    assert.equal(done.status, 'completed');
    assert.equal(deepseek.batches.size, 0);
    assert.equal(deepseek.requests.filter((request) => request.path === '/v1/chat/completions').length, 2);
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
      portico = await startPresetPortico(`  - {model_name: llama, litellm_params: {model: together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo, api_base: "${together.url}", api_key: ${TOGETHER_SIMULATOR_API_KEY}}}`, 'portico-together-', dialect);
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

    it('a create whose answer was lost is not looked for by a marker Together does not keep: 503, then failed with a warning', async () => {
      const client = portico.client();
      const input = await uploadBatchFile(client, chatLines('llama', { count: 1 }));
      const before = together.batches.size;
      // Together creates the batch, then its answer is lost (a 502 from a proxy in front).
      together.failNext({ status: 502, afterHandling: true, match: { method: 'POST', path: /^\/v1\/batches$/ } });
      await assert.rejects(client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), (error: { status?: number; code?: string }) => {
        assert.equal(error.status, 503);
        assert.equal(error.code, 'batch_start_unconfirmed');
        return true;
      });
      assert.equal(together.batches.size, before + 1, 'created once, not retried blindly');
      const db = portico.services.database;
      await db.kysely.updateTable('batches').set({ lease_expires_at: 0 }).where('creating', '=', 1).execute();
      await reconcileIntentsOf(portico, input.id);
      const [row] = await db.kysely.selectFrom('batches').select(['status', 'creating']).where('input_file_id', '=', input.id).execute();
      assert.equal(row.status, 'failed');
      assert.ok(
        portico.logs.some((line) => String(line.msg).startsWith('an unfinished create cannot be checked at its provider')),
        'the operator is told a Together batch may run that Portico does not track',
      );
    });
  });
}

for (const dialect of ALL_DIALECTS) {
  describe(`batches on Mistral's Batch API [${dialect}]`, () => {
    let mistral: MistralSimulator;
    let portico: PorticoUnderTest;
    before(async () => {
      // Jobs advance only when a test says so, so that one can be cancelled before it runs.
      mistral = await startMistralSimulator();
      portico = await startPresetPortico(`  - {model_name: small, litellm_params: {model: mistral/mistral-small-latest, api_base: "${mistral.url}", api_key: ${MISTRAL_SIMULATOR_API_KEY}}}`, 'portico-mistral-', dialect);
    });
    after(async () => {
      await portico.close();
      await mistral.close();
    });

    it("runs natively in Mistral's line format: a failed line lands in the error file, under our custom_ids", async () => {
      const client = portico.client();
      const input = await uploadBatchFile(client, chatLines('small', { count: 3, text: (i) => (i === 1 ? 'FAIL' : `question ${i}`) }));
      const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { team: 'a' } });
      assert.equal(batch.status, 'validating');
      const [job] = [...mistral.jobs.values()].filter((j) => j.status === 'QUEUED');
      assert.ok(job, 'created on Mistral');
      assert.equal(job.model, 'mistral-small-latest', 'the job names the model');
      assert.equal(job.endpoint, '/v1/chat/completions');
      assert.equal(job.metadata?.team, 'a');
      const create = mistral.requests.find((request) => request.method === 'POST' && request.path === '/v1/batch/jobs');
      assert.equal((create!.json as { timeout_hours?: number }).timeout_hours, 24);
      const [copy] = job.input_files.map((id) => mistral.files.get(id)!);
      assert.equal(copy.purpose, 'batch');
      const copied = parseJsonl(copy.content.toString('utf8'));
      assert.deepEqual(copied.map((line) => Object.keys(line).sort()), [['body', 'custom_id'], ['body', 'custom_id'], ['body', 'custom_id']], "Mistral's lines: custom_id and body");
      assert.ok(copied.every((line) => !('model' in (line.body as object))));
      await mistral.advanceBatches();
      await mistral.advanceBatches();
      const done = await waitForEnd(client, batch.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      assert.deepEqual(done.metadata, { team: 'a' });
      const output = parseJsonl(await readContent(client, done.output_file_id!));
      assert.deepEqual(output.map((row) => row.custom_id).sort(), ['request-0', 'request-2']);
      assert.equal((output[0].response as { status_code: number }).status_code, 200);
      const errors = parseJsonl(await readContent(client, done.error_file_id!));
      assert.deepEqual(errors.map((row) => row.custom_id), ['request-1']);
      assert.equal((errors[0].response as { status_code: number }).status_code, 400);
    });

    it('cancels natively: cancelling while Mistral has the request, then cancelled', async () => {
      const client = portico.client();
      const input = await uploadBatchFile(client, chatLines('small', { count: 2 }));
      const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const cancelling = await client.batches.cancel(batch.id);
      assert.equal(cancelling.status, 'cancelling');
      await mistral.advanceBatches();
      const done = await waitForEnd(client, batch.id);
      assert.equal(done.status, 'cancelled');
      assert.ok([...mistral.jobs.values()].some((j) => j.status === 'CANCELLED'));
    });
  });
}
