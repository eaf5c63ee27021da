/**
 * Issue 3's scenarios, each named after the behaviour, through the official `openai` SDK against
 * Portico in front of simulated OpenAI and Azure OpenAI upstreams, on SQLite and on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { PorticoUnderTest } from '../../helpers/portico.ts';
import { validateOpenAI } from '../../helpers/openai-schemas.ts';
import {
  AZURE_DEPLOYMENT,
  GATEWAY_BATCH_ID,
  GATEWAY_FILE_ID,
  chatLines,
  expectStatus,
  managedConfig,
  parseJsonl,
  readContent,
  runToEnd,
  startManagedGateway,
  uploadBatchFile,
  type ManagedGateway,
  type ManagedUpstreams,
} from './managed-fixtures.ts';

function assertShape(schema: Parameters<typeof validateOpenAI>[0], body: unknown): void {
  assert.deepEqual(validateOpenAI(schema, body), [], `${schema} must match OpenAI's schema: ${JSON.stringify(body)}`);
}


for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`managed files and batches (${dialect})`, () => {
    let upstreams: ManagedUpstreams;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    let gateway: ManagedGateway | undefined;

    before(async () => {
      gateway = await startManagedGateway(dialect);
      ({ upstreams, portico, client } = gateway);
    });
    after(async () => gateway?.close());

    test('the plain SDK flow runs a batch end to end on OpenAI', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 4 }));
      assertShape('OpenAIFile', file);
      assert.match(file.id, GATEWAY_FILE_ID);
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'plain' } });
      assertShape('Batch', created);
      assert.match(created.id, GATEWAY_BATCH_ID);
      assert.equal(created.endpoint, '/v1/chat/completions');
      assert.deepEqual(created.metadata, { job: 'plain' });
      const done = await runToEnd(client, upstreams, created.id);
      assertShape('Batch', done);
      assert.equal(done.status, 'completed');
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
      assert.equal(done.error_file_id, null);
      assert.deepEqual(done.request_counts, { total: 4, completed: 4, failed: 0 });
      const lines = parseJsonl(await readContent(client, done.output_file_id!));
      assert.deepEqual(lines.map((l) => l.custom_id).sort(), ['request-0', 'request-1', 'request-2', 'request-3']);
      for (const line of lines) assert.equal((line.response as { status_code: number }).status_code, 200);
      // Where the bytes went: PostgreSQL keeps them in the database (blob_store: database).
      const blobRows = await portico.services.database.kysely.selectFrom('blobs').select('key').execute();
      assert.equal(blobRows.length > 0, dialect === 'postgres', `${blobRows.length} blob rows on ${dialect}`);
    });

    test('the plain SDK flow runs a batch end to end on Azure, with failed lines in the error file', async () => {
      const jsonl = chatLines('azure-gpt-4o', { count: 3, text: (i) => (i === 1 ? 'FAIL' : `hello ${i}`) });
      const file = await uploadBatchFile(client, jsonl);
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, upstreams, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      const output = parseJsonl(await readContent(client, done.output_file_id!));
      const errors = parseJsonl(await readContent(client, done.error_file_id!));
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['request-0', 'request-2']);
      assert.deepEqual(errors.map((l) => l.custom_id), ['request-1']);
      // Azure's output lines have no top-level id; every line Portico serves has one.
      for (const line of [...output, ...errors]) assert.match(String(line.id), /^batch_req_/);
    });

    test('an Azure batch whose every line failed completes with only an error file, and zero usage (no tokens were used), not none', async () => {
      const file = await uploadBatchFile(client, chatLines('azure-gpt-4o', { count: 2, text: () => 'FAIL' }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, upstreams, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 2, completed: 0, failed: 2 });
      assert.equal(done.output_file_id, null);
      assert.equal(parseJsonl(await readContent(client, done.error_file_id!)).length, 2);
      assert.deepEqual(done.usage, { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 });
    });

    test('batch create on Azure answers the real endpoint and no empty-string ids', async () => {
      const file = await uploadBatchFile(client, chatLines('azure-gpt-4o'));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(created.endpoint, '/v1/chat/completions');
      assert.equal(created.output_file_id, null);
      assert.equal(created.error_file_id, null);
      assert.equal(created.input_file_id, file.id);
      assertShape('Batch', created);
      // Azure really was asked with the deployment name in every line.
      const upload = [...upstreams.azure.files.values()].at(-1)!;
      for (const line of parseJsonl(upload.content.toString('utf8'))) assert.equal((line.body as { model: string }).model, AZURE_DEPLOYMENT);
    });

    test('a successful Azure batch has no error file, although Azure leaves a 0-byte one', async () => {
      const file = await uploadBatchFile(client, chatLines('azure-gpt-4o', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, upstreams, created.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.error_file_id, null);
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
    });

    test('retrieving a batch output file returns its metadata with the gateway id', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, upstreams, created.id);
      const output = await client.files.retrieve(done.output_file_id!);
      assertShape('OpenAIFile', output);
      assert.equal(output.id, done.output_file_id);
      assert.equal(output.purpose, 'batch_output');
      assert.equal(output.status, 'processed');
      assert.ok(output.bytes > 0);
      assert.equal(output.bytes, Buffer.byteLength(await readContent(client, output.id)));
      const listed = await client.files.list({ purpose: 'batch_output' });
      assert.ok(listed.data.some((f) => f.id === output.id), 'batch outputs are listed with the owner files');
    });

    test('deleting a batch output file answers the delete confirmation with the gateway id', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, upstreams, created.id);
      const providerOutputs = [...upstreams.openai.files.values()].filter((f) => f.purpose === 'batch_output').length;
      const deleted = await client.files.delete(done.output_file_id!);
      assertShape('DeleteFileResponse', deleted);
      assert.deepEqual(deleted, { id: done.output_file_id, object: 'file', deleted: true });
      await expectStatus(client.files.retrieve(done.output_file_id!), 404);
      await expectStatus(client.files.content(done.output_file_id!), 404);
      assert.equal([...upstreams.openai.files.values()].filter((f) => f.purpose === 'batch_output').length, providerOutputs - 1, 'the provider copy is deleted too');
      // The batch keeps naming its (deleted) output file, as OpenAI does.
      assert.equal((await client.batches.retrieve(created.id)).output_file_id, done.output_file_id);
    });

    test('target_model_names places a rewritten copy on every deployment, and deleting the input removes every copy', async () => {
      const before = { openai: upstreams.openai.files.size, azure: upstreams.azure.files.size };
      const file = await uploadBatchFile(client, chatLines('gpt-4o-everywhere'), { target_model_names: 'gpt-4o-everywhere' });
      assert.equal(upstreams.openai.files.size, before.openai + 1);
      assert.equal(upstreams.azure.files.size, before.azure + 1);
      const openaiCopy = [...upstreams.openai.files.values()].at(-1)!;
      const azureCopy = [...upstreams.azure.files.values()].at(-1)!;
      assert.equal((parseJsonl(openaiCopy.content.toString())[0].body as { model: string }).model, 'gpt-4o');
      assert.equal((parseJsonl(azureCopy.content.toString())[0].body as { model: string }).model, AZURE_DEPLOYMENT);
      const deleted = await client.files.delete(file.id);
      assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
      assert.ok(!upstreams.openai.files.has(openaiCopy.id), 'OpenAI copy removed');
      assert.ok(!upstreams.azure.files.has(azureCopy.id), 'Azure copy removed');
      await expectStatus(client.files.retrieve(file.id), 404);
    });

    test('a line naming a model outside target_model_names is a 400, not silently rewritten', async () => {
      const jsonl = chatLines('gpt-4o-mini');
      await expectStatus(uploadBatchFile(client, jsonl, { target_model_names: 'gpt-4o-everywhere' }), 400);
    });

    test('listing batches with target_model_names works and returns gateway ids only', async () => {
      const file = await uploadBatchFile(client, chatLines('azure-gpt-4o'));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const page = await client.batches.list({ target_model_names: 'azure-gpt-4o', limit: 100 } as OpenAI.Batches.BatchListParams);
      assertShape('ListBatchesResponse', { object: 'list', data: page.data, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null, has_more: page.has_more });
      assert.ok(page.data.some((b) => b.id === created.id));
      for (const batch of page.data) {
        assert.match(batch.id, GATEWAY_BATCH_ID);
        assert.equal(batch.model, 'azure-gpt-4o');
      }
      const none = await client.batches.list({ target_model_names: 'no-such-model' } as OpenAI.Batches.BatchListParams);
      assert.deepEqual(none.data, []);
    });

    test('batches.list() returns gateway ids and endpoints, never Azure ids', async () => {
      const raw = await portico.fetch('/v1/batches?limit=100');
      assert.equal(raw.status, 200);
      const body = (await raw.json()) as { data: Array<{ id: string; endpoint: string; input_file_id: string; output_file_id: string | null }> };
      assertShape('ListBatchesResponse', body);
      assert.ok(body.data.length > 0);
      const azureIds = new Set([...upstreams.azure.batches.keys()]);
      for (const batch of body.data) {
        assert.match(batch.id, GATEWAY_BATCH_ID);
        assert.ok(!azureIds.has(batch.id));
        assert.match(batch.input_file_id, GATEWAY_FILE_ID);
        assert.equal(batch.endpoint, '/v1/chat/completions');
      }
    });

    test('an azure/ deployment serves every file and batch route with no custom_llm_provider', async () => {
      const file = await uploadBatchFile(client, chatLines('azure-gpt-4o'), { target_model_names: 'azure-gpt-4o' });
      assert.equal((await client.files.retrieve(file.id)).id, file.id);
      assert.equal(await readContent(client, file.id), chatLines('azure-gpt-4o'));
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal((await client.batches.retrieve(batch.id)).id, batch.id);
      const cancelled = await client.batches.cancel(batch.id);
      assert.ok(['cancelling', 'cancelled'].includes(cancelled.status));
      const ended = await runToEnd(client, upstreams, batch.id);
      assert.equal(ended.status, 'cancelled');
      assert.ok(upstreams.azure.requests.some((r) => r.path.startsWith('/openai/batches') && r.method === 'POST'), 'batch routes went to Azure');
      assert.ok(!upstreams.openai.requests.some((r) => r.json !== undefined && JSON.stringify(r.json).includes(AZURE_DEPLOYMENT)), 'nothing Azure went to OpenAI');
      assert.equal((await client.files.delete(file.id)).deleted, true);
    });

    test('cancelling a completed batch is a 409 as on OpenAI', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 1 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await runToEnd(client, upstreams, created.id);
      await expectStatus(client.batches.cancel(created.id), 409);
    });

    test("two keys cannot see, download, delete, cancel, list or batch each other's objects", async () => {
      const alice = portico.client((await portico.generateKey({ user_id: `alice-${dialect}` })).key);
      const bob = portico.client((await portico.generateKey({ user_id: `bob-${dialect}` })).key);
      const file = await uploadBatchFile(alice, chatLines('gpt-4o-mini'));
      const batch = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await expectStatus(bob.files.retrieve(file.id), 404);
      await expectStatus(bob.files.content(file.id), 404);
      await expectStatus(bob.files.delete(file.id), 404);
      await expectStatus(bob.batches.retrieve(batch.id), 404);
      await expectStatus(bob.batches.cancel(batch.id), 404);
      await expectStatus(bob.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), 404);
      assert.ok(!(await bob.files.list()).data.some((f) => f.id === file.id));
      assert.ok(!(await bob.batches.list()).data.some((b) => b.id === batch.id));
      // The owner still has everything, and output files belong to the batch's owner.
      const done = await runToEnd(alice, upstreams, batch.id);
      await expectStatus(bob.files.retrieve(done.output_file_id!), 404);
      assert.equal((await alice.files.retrieve(done.output_file_id!)).id, done.output_file_id);
      // Keys of one team share the team's objects.
      const teamA = portico.client((await portico.generateKey({ team_id: `team-${dialect}`, user_id: 'u1' })).key);
      const teamB = portico.client((await portico.generateKey({ team_id: `team-${dialect}`, user_id: 'u2' })).key);
      const shared = await uploadBatchFile(teamA, chatLines('gpt-4o-mini'));
      assert.equal((await teamB.files.retrieve(shared.id)).id, shared.id);
      await expectStatus(alice.files.retrieve(shared.id), 404);
    });

    test('pagination of files and batches walks every item exactly once', async () => {
      const walker = portico.client((await portico.generateKey({ user_id: `walker-${dialect}` })).key);
      const fileIds: string[] = [];
      for (let i = 0; i < 5; i += 1) fileIds.push((await uploadBatchFile(walker, chatLines('gpt-4o-mini', { prefix: `p${i}` }))).id);
      const batchIds: string[] = [];
      for (const id of fileIds) batchIds.push((await walker.batches.create({ input_file_id: id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
      const seenFiles: string[] = [];
      for await (const file of walker.files.list({ limit: 2 })) seenFiles.push(file.id);
      assert.deepEqual([...seenFiles].sort(), [...fileIds].sort());
      const seenAsc: string[] = [];
      for await (const file of walker.files.list({ limit: 3, order: 'asc' })) seenAsc.push(file.id);
      assert.deepEqual(seenAsc, [...seenFiles].reverse());
      const seenBatches: string[] = [];
      for await (const batch of walker.batches.list({ limit: 2 })) seenBatches.push(batch.id);
      assert.deepEqual(seenBatches, [...batchIds].reverse(), 'newest first, each once');
      const firstPage = await walker.batches.list({ limit: 2 });
      assert.equal(firstPage.has_more, true);
      const raw = (await (await portico.fetch(`/v1/batches?limit=2&after=${batchIds.at(-2)}`, { apiKey: walker.apiKey })).json()) as { data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
      assert.deepEqual(raw.data.map((b) => b.id), [batchIds[2], batchIds[1]]);
      assert.equal(raw.first_id, batchIds[2]);
      assert.equal(raw.last_id, batchIds[1]);
      assert.equal(raw.has_more, true);
    });
  });
}
