/**
 * Issue 3's scenarios about bad input, partial failure, restarts and billing: the gateway answers
 * every client mistake with OpenAI's envelope and the right 4xx, leaves nothing half-written
 * behind a failure, and keeps its batches (and their cost) across restarts and races.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { createTestDatabase } from '../../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { MANAGED_ENV, chatLines, expectStatus, isEnvelope, managedConfig, runToEnd, startManagedGateway, startManagedUpstreams, uploadBatchFile, type ManagedGateway, type ManagedUpstreams } from './managed-fixtures.ts';


for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`bad input, partial failure, restart and billing (${dialect})`, () => {
    let upstreams: ManagedUpstreams;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    let gateway: ManagedGateway | undefined;

    before(async () => {
      gateway = await startManagedGateway(dialect);
      ({ upstreams, portico, client } = gateway);
    });
    after(async () => gateway?.close());

    test('unknown, malformed and hostile ids are a 404 in the envelope, never a 500', async () => {
      const hostile = ['file-doesnotexist', '..%2F..%2Fetc%2Fpasswd', "file-x'%20OR%201%3D1--", 'x'.repeat(5000), 'file-abc%00def', 'batch_6f1e2d3c4b5a69788796a5b4'];
      for (const id of hostile) {
        for (const [method, path] of [
          ['GET', `/v1/files/${id}`],
          ['GET', `/v1/files/${id}/content`],
          ['DELETE', `/v1/files/${id}`],
          ['GET', `/v1/batches/${id}`],
          ['POST', `/v1/batches/${id}/cancel`],
        ] as const) {
          const response = await portico.fetch(path, { method });
          assert.ok(response.status >= 400 && response.status < 500, `${method} ${path.slice(0, 60)} answered ${response.status}`);
          assert.ok(isEnvelope(await response.json()), `${method} ${path.slice(0, 60)} answers OpenAI's envelope`);
        }
      }
      // A raw provider id is not ours: simply not found.
      const providerFileId = [...upstreams.openai.files.keys()][0] ?? 'file-abc123';
      assert.equal((await portico.fetch(`/v1/files/${providerFileId}`)).status, 404);
    });

    test('invalid JSONL is a 400 naming the line, and nothing is stored', async () => {
      const before = (await client.files.list()).data.length;
      const bad = `${chatLines('gpt-4o-mini', { count: 2 })}{"custom_id": "x", "method": "POST"\n`;
      await assert.rejects(uploadBatchFile(client, bad), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /line 3/);
        assert.equal(error.code, 'invalid_json_line');
        return true;
      });
      const duplicate = `${chatLines('gpt-4o-mini', { count: 1 })}${chatLines('gpt-4o-mini', { count: 1 })}`;
      await assert.rejects(uploadBatchFile(client, duplicate), (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'duplicate_custom_id');
      await assert.rejects(uploadBatchFile(client, chatLines('gpt-4o-mini'), {}, 'input.txt'), OpenAI.BadRequestError);
      assert.equal((await client.files.list()).data.length, before);
    });

    test('wrong purpose, wrong endpoint, bad window, bad metadata, missing file and no auth get the right 4xx', async () => {
      await assert.rejects(client.files.create({ file: await toFile(Buffer.from('x'), 'a.txt'), purpose: 'nonsense' as 'batch' }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'purpose');
      const notBatch = await client.files.create({ file: await toFile(Buffer.from('hello'), 'notes.txt'), purpose: 'user_data' });
      await assert.rejects(client.batches.create({ input_file_id: notBatch.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), OpenAI.BadRequestError);
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/nope' as '/v1/chat/completions', completion_window: '24h' }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'endpoint');
      await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }), (e: unknown) => e instanceof OpenAI.BadRequestError);
      await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '48h' as '24h' }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'completion_window');
      await assert.rejects(
        client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { tags: ['a'] } as unknown as Record<string, string> }),
        (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'metadata.tags',
      );
      await assert.rejects(client.batches.create({ input_file_id: 'file-missing', endpoint: '/v1/chat/completions', completion_window: '24h' }), OpenAI.NotFoundError);
      await assert.rejects(client.batches.list({ limit: 101 }), OpenAI.BadRequestError);
      await assert.rejects(client.batches.list({ limit: 0 }), OpenAI.BadRequestError);
      const noAuth = await portico.fetch('/v1/files', { apiKey: null });
      assert.equal(noAuth.status, 401);
      assert.ok(isEnvelope(await noAuth.json()));
      const noMultipart = await portico.fetch('/v1/files', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(noMultipart.status, 400);
      const noFile = new FormData();
      noFile.set('purpose', 'batch');
      const missingFile = await portico.fetch('/v1/files', { method: 'POST', body: noFile });
      assert.equal(missingFile.status, 400);
      assert.equal(((await missingFile.json()) as { error: { param: string } }).error.param, 'file');
      // The gateway keeps serving.
      const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] });
      assert.ok(chat.choices[0].message.content);
    });

    test('one of two target deployments rejecting the upload fails it cleanly with no copy left behind', async () => {
      const openaiFiles = upstreams.openai.files.size;
      const azureFiles = upstreams.azure.files.size;
      const before = (await client.files.list()).data.length;
      upstreams.azure.failNext({ status: 400, count: 1, match: { method: 'POST', path: /\/openai\/files$/ } });
      await assert.rejects(uploadBatchFile(client, chatLines('gpt-4o-everywhere'), { target_model_names: 'gpt-4o-everywhere' }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.ok(error.status !== undefined && error.status >= 400);
        return true;
      });
      assert.equal(upstreams.openai.files.size, openaiFiles, 'the copy that did upload was removed');
      assert.equal(upstreams.azure.files.size, azureFiles);
      assert.equal((await client.files.list()).data.length, before, 'no gateway file was created');
    });

    test('a provider delete that fails is retried by the background job until the copy is gone', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini' });
      const copy = [...upstreams.openai.files.values()].at(-1)!;
      upstreams.openai.failNext({ status: 500, count: 4, match: { method: 'DELETE', path: /\/files\// } });
      const deleted = await client.files.delete(file.id);
      assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
      await assert.rejects(client.files.retrieve(file.id), OpenAI.NotFoundError);
      assert.ok(upstreams.openai.files.has(copy.id), 'the provider copy is still there after the failed delete');
      for (let i = 0; i < 20 && upstreams.openai.files.has(copy.id); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await portico.jobs.janitor.runOnce();
      }
      assert.ok(!upstreams.openai.files.has(copy.id), 'the janitor deleted the provider copy');
    });

    test("a batch's cost is added to the key's spend exactly once, however many retrieves race", async () => {
      const key = await portico.generateKey({ user_id: `payer-${dialect}` });
      const payer = portico.client(key.key);
      const file = await uploadBatchFile(payer, chatLines('azure-gpt-4o', { count: 3 }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      for (let i = 0; i < 4; i += 1) {
        await upstreams.azure.advanceBatches();
        await Promise.all(Array.from({ length: 8 }, () => payer.batches.retrieve(created.id)));
      }
      const done = await runToEnd(payer, upstreams, created.id);
      assert.equal(done.status, 'completed');
      await Promise.all(Array.from({ length: 8 }, () => payer.batches.retrieve(created.id)));
      await portico.jobs.poller.runOnce();
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      const expected = usage.input_tokens * 0.000001 + usage.output_tokens * 0.000004;
      const info = (await (await portico.fetch(`/key/info?key=${key.key}`)).json()) as { info: { spend: number } };
      assert.ok(Math.abs(info.info.spend - expected) < 1e-12, `spend ${info.info.spend} must be ${expected}`);
    });
  });
}

describe('restart', () => {
  let upstreams: ManagedUpstreams;
  before(async () => {
    upstreams = await startManagedUpstreams();
  });
  after(async () => upstreams?.close());

  for (const dialect of ['sqlite', 'postgres'] as const) {
    test(`a batch created before a restart is still retrievable and completes after it (${dialect})`, async () => {
      const database = await createTestDatabase(dialect);
      const storage = await mkdtemp(join(tmpdir(), 'portico-restart-'));
      const config = await managedConfig(upstreams, storage);
      try {
        const first = await startPortico(config, { databaseUrl: database.url, env: MANAGED_ENV });
        const file = await uploadBatchFile(first.client(), chatLines('gpt-4o-mini', { count: 2 }));
        const created = await first.client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        await first.close();
        const second = await startPortico(config, { databaseUrl: database.url, env: MANAGED_ENV });
        try {
          const client = second.client();
          assert.equal((await client.batches.retrieve(created.id)).id, created.id);
          const done = await runToEnd(client, upstreams, created.id);
          assert.equal(done.status, 'completed');
          assert.equal((await client.files.content(done.output_file_id!)).ok, true);
          assert.equal((await client.files.retrieve(file.id)).id, file.id);
        } finally {
          await second.close();
        }
      } finally {
        await database.dispose();
      }
    });
  }
});

describe('expiry', () => {
  let upstreams: ManagedUpstreams;
  let portico: PorticoUnderTest;
  let gateway: ManagedGateway | undefined;
  before(async () => {
    gateway = await startManagedGateway('sqlite', 1);
    ({ upstreams, portico } = gateway);
  });
  after(async () => gateway?.close());

  test('expires_after is read in the SDK bracket form and in the Azure dot form', async () => {
    for (const [anchor, seconds] of [['expires_after[anchor]', 'expires_after[seconds]'], ['expires_after.anchor', 'expires_after.seconds']]) {
      const form = new FormData();
      form.set('purpose', 'user_data');
      form.set(anchor, 'created_at');
      form.set(seconds, '7200');
      form.set('file', new Blob(['notes']), 'notes.txt');
      const response = await portico.fetch('/v1/files', { method: 'POST', body: form });
      const file = (await response.json()) as { created_at: number; expires_at: number };
      assert.equal(response.status, 200);
      assert.equal(file.expires_at, file.created_at + 7200);
    }
    const bad = new FormData();
    bad.set('purpose', 'user_data');
    bad.set('expires_after[anchor]', 'created_at');
    bad.set('expires_after[seconds]', '10');
    bad.set('file', new Blob(['notes']), 'notes.txt');
    const rejected = await portico.fetch('/v1/files', { method: 'POST', body: bad });
    assert.equal(rejected.status, 400);
  });

  test('an expired file is deleted everywhere by the background job', async () => {
    const client = portico.client();
    const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'), { target_model_names: 'gpt-4o-mini' });
    const copy = [...upstreams.openai.files.values()].at(-1)!;
    assert.ok(file.expires_at, 'batch files get the default expiry');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expectStatus(client.files.retrieve(file.id), 404);
    await portico.jobs.janitor.runOnce();
    assert.ok(!upstreams.openai.files.has(copy.id), 'the provider copy of an expired file is deleted');
  });
});
