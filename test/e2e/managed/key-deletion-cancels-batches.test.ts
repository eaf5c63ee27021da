/**
 * Deleting a virtual key cancels the batches it started and that still run, emulated and native:
 * the delete marks them `cancelling` in the same transaction, and the batch poller (on any
 * instance) cancels them in the engine or at the provider. Nothing runs on for a deleted key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { startPorticoWithStorage, type PorticoUnderTest, type PorticoWithStorage } from '../../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-key-deletion-master-0123456789';
const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'];

function jsonl(model: string, count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ custom_id: `r-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `Say ${i}` }] } }),
  ).join('\n');
}

async function startBatch(client: OpenAI, model: string, count: number): Promise<OpenAI.Batches.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(model, count)), 'in.jsonl'), purpose: 'batch' });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

/** Waits for the batch to end without anyone retrieving it: only the background poller works it. */
async function endedInDatabase(portico: PorticoUnderTest, batchId: string, onWait: () => Promise<void> = async () => {}): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const row = await portico.services.managed!.batchStore.getById(batchId);
    if (row && TERMINAL.includes(row.status)) return row.status;
    assert.ok(Date.now() < deadline, `batch ${batchId} is still ${row?.status}`);
    await onWait();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`deleting a key cancels its running batches (${dialect})`, () => {
    let upstream: OpenAISimulator;
    let portico: PorticoWithStorage;

    before(async () => {
      upstream = await startOpenAISimulator();
      portico = await startPorticoWithStorage(
        (storageDir) => `
model_list:
  - model_name: slow-mock
    litellm_params:
      model: mock/slow
      mock_latency_ms: 100
      batch_concurrency: 1
  - model_name: native-openai
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstream.url}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${storageDir}
  batch:
    refresh_after_seconds: 60
    poll_interval_ms: 100
`,
        { dialect },
      );
    });
    after(async () => {
      await portico?.close();
      await upstream?.close();
    });

    test('an emulated and a native batch of a deleted key end cancelled; another key\'s batch runs on', async () => {
      const doomed = await portico.generateKey({ user_id: 'doomed' });
      const other = await portico.generateKey({ user_id: 'other' });
      const doomedClient = portico.client(doomed.key);
      const emulated = await startBatch(doomedClient, 'slow-mock', 100);
      const native = await startBatch(doomedClient, 'native-openai', 3);
      const survivor = await startBatch(portico.client(other.key), 'slow-mock', 3);
      // The emulated batch is running lines when its key goes.
      const deadline = Date.now() + 20_000;
      while (((await portico.services.managed!.batchStore.getById(emulated.id))?.requestCompleted ?? 0) === 0) {
        assert.ok(Date.now() < deadline, 'the emulated batch never started');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      const deleted = await portico.fetch('/key/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [doomed.token] }) });
      assert.equal(deleted.status, 200);

      assert.equal(await endedInDatabase(portico, emulated.id), 'cancelled');
      // The simulator moves a cancelled batch on only when told to.
      assert.equal(await endedInDatabase(portico, native.id, () => upstream.advanceBatches()), 'cancelled');
      assert.ok(upstream.requests.some((r) => r.method === 'POST' && /\/batches\/[^/]+\/cancel$/.test(r.path)), 'the provider was asked to cancel');
      assert.equal(await endedInDatabase(portico, survivor.id), 'completed');

      const master = portico.client();
      const emulatedNow = await master.batches.retrieve(emulated.id);
      assert.ok(emulatedNow.request_counts!.completed < 100, `lines stopped running: ${JSON.stringify(emulatedNow.request_counts)}`);
      assert.equal(emulatedNow.request_counts!.total, 100);
    });

    test('a batch whose create is at the provider while its key is deleted ends cancelled', async () => {
      const doomed = await portico.generateKey({ user_id: 'doomed-mid-create' });
      const client = portico.client(doomed.key);
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl('native-openai', 3)), 'in.jsonl'), purpose: 'batch' });
      // The provider holds the create; the key is deleted while it does (its intent row is written).
      upstream.slowNext({ ms: 3000, match: { method: 'POST', path: /\/batches$/ } });
      const seen = upstream.requests.length;
      const creating = client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const deadline = Date.now() + 20_000;
      while (!upstream.requests.slice(seen).some((r) => r.method === 'POST' && r.path.endsWith('/batches'))) {
        assert.ok(Date.now() < deadline, 'the create never reached the provider');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const deleted = await portico.fetch('/key/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [doomed.token] }) });
      assert.equal(deleted.status, 200);
      const batch = await creating;
      assert.equal(batch.status, 'cancelling');
      assert.equal(await endedInDatabase(portico, batch.id, () => upstream.advanceBatches()), 'cancelled');
    });
  });
}
