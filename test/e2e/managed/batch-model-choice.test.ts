/**
 * A batch runs on one model group; a file may be placed on several (`target_model_names`) or
 * name several in its lines. How the group is chosen (`managed/batches/batch-model.ts`), through
 * the official SDK: an explicit `model` (LiteLLM's extra body field) wins, else the one group
 * the lines name, else a 400 listing the choices.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { PorticoUnderTest } from '../../helpers/portico.ts';
import { chatLines, runToEnd, startManagedGateway, uploadBatchFile, type ManagedGateway, type ManagedUpstreams } from './managed-fixtures.ts';

type CreateParams = OpenAI.Batches.BatchCreateParams & { model?: string };

function create(client: OpenAI, inputFileId: string, model?: string) {
  const params: CreateParams = { input_file_id: inputFileId, endpoint: '/v1/chat/completions', completion_window: '24h', ...(model === undefined ? {} : { model }) };
  return client.batches.create(params as OpenAI.Batches.BatchCreateParams);
}

async function expect400(promise: Promise<unknown>, param: string, mentions: readonly string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    assert.equal(error.status, 400, error.message);
    assert.equal((error.error as { param?: string }).param, param);
    for (const name of mentions) assert.ok(error.message.includes(`'${name}'`), `the message lists '${name}': ${error.message}`);
    return true;
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`choosing a batch's model among a file's groups (${dialect})`, () => {
    let gateway: ManagedGateway | undefined;
    let upstreams: ManagedUpstreams;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      gateway = await startManagedGateway(dialect);
      ({ upstreams, portico, client } = gateway);
    });
    after(async () => gateway?.close());

    test('a file placed on two groups whose lines name one runs on that one without `model`', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini,azure-gpt-4o' });
      const batch = await create(client, file.id);
      assert.equal(batch.model, 'gpt-4o-mini');
      const done = await runToEnd(client, upstreams, batch.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 3, failed: 0 });
    });

    test('an explicit `model` picks another of the placed groups, and the batch runs there', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini,azure-gpt-4o' });
      const azureBatchesBefore = upstreams.azure.batches.size;
      const batch = await create(client, file.id, 'azure-gpt-4o');
      assert.equal(batch.model, 'azure-gpt-4o');
      assert.equal(upstreams.azure.batches.size, azureBatchesBefore + 1, 'the batch was created on Azure');
      const done = await runToEnd(client, upstreams, batch.id);
      assert.equal(done.status, 'completed');
    });

    test('lines naming several groups need `model`: a 400 listing the choices, then the chosen one runs', async () => {
      const jsonl = chatLines('gpt-4o-mini', { count: 2 }) + chatLines('azure-gpt-4o', { count: 2, prefix: 'azure' });
      const file = await uploadBatchFile(client, jsonl, { target_model_names: 'gpt-4o-mini,azure-gpt-4o' });
      await expect400(create(client, file.id), 'model', ['gpt-4o-mini', 'azure-gpt-4o']);
      const batch = await create(client, file.id, 'gpt-4o-mini');
      assert.equal(batch.model, 'gpt-4o-mini');
      assert.equal((await runToEnd(client, upstreams, batch.id)).status, 'completed');
    });

    test('a plain upload whose lines name two groups can be batched with `model`', async () => {
      const jsonl = chatLines('gpt-4o-mini', { count: 2 }) + chatLines('azure-gpt-4o', { count: 1, prefix: 'azure' });
      const file = await uploadBatchFile(client, jsonl);
      await expect400(create(client, file.id), 'model', ['gpt-4o-mini', 'azure-gpt-4o']);
      const batch = await create(client, file.id, 'azure-gpt-4o');
      const done = await runToEnd(client, upstreams, batch.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 3, failed: 0 });
    });

    test('a `model` that is not one of the file\'s groups, or not allowed to the key, is a 400 listing the choices', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini,azure-gpt-4o' });
      await expect400(create(client, file.id, 'gpt-4o-everywhere'), 'model', ['gpt-4o-mini', 'azure-gpt-4o']);
      await expect400(create(client, file.id, 'no-such-model'), 'model', ['gpt-4o-mini', 'azure-gpt-4o']);

      const { key } = await portico.generateKey({ models: ['gpt-4o-mini', 'azure-gpt-4o'], user_id: 'model-choice' });
      const limitedKey = await portico.generateKey({ models: ['gpt-4o-mini'], user_id: 'model-choice' });
      const owned = await uploadBatchFile(portico.client(key), chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini,azure-gpt-4o' });
      const limited = portico.client(limitedKey.key);
      await expect400(create(limited, owned.id, 'azure-gpt-4o'), 'model', ['gpt-4o-mini']);
      const batch = await create(limited, owned.id, 'gpt-4o-mini');
      assert.equal(batch.model, 'gpt-4o-mini');
    });
  });
}
