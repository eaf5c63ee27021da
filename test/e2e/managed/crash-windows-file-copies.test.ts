/**
 * Issue 9, defect 7: crash windows in file copies. A copy left `uploading` by an upload that
 * died must not block later batch creates (they took 120 s per try, then a 503) and is settled
 * by the file janitor; a file deleted while its copy uploads keeps no provider copy and starts
 * no batch; an upload cut off by its client releases its copy. On SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { newFileCopyId } from '../../../src/managed/ids.ts';
import type { FileStore } from '../../../src/storage/file-store.ts';
import { nowSeconds, unixSeconds } from '../../../src/storage/row-mapping.ts';
import type { PorticoUnderTest } from '../../helpers/portico.ts';
import { chatLines, startManagedGateway, uploadBatchFile, type ManagedGateway, type ManagedUpstreams } from './managed-fixtures.ts';

/** The `gpt-4o-mini` group's one deployment (OpenAI simulator). */
const DEPLOYMENT = 'openai-mini';

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`crash windows in file copies (${dialect})`, () => {
    let gateway: ManagedGateway | undefined;
    let upstreams: ManagedUpstreams;
    let portico: PorticoUnderTest;
    let client: OpenAI;
    let files: FileStore;

    before(async () => {
      gateway = await startManagedGateway(dialect);
      ({ upstreams, portico, client } = gateway);
      files = portico.services.managed!.fileStore;
    });
    after(async () => gateway?.close());

    /** A copy row as an upload that crashed (or was killed) mid-way leaves it. */
    async function crashedUpload(fileId: string): Promise<string> {
      const id = newFileCopyId();
      await files.insertCopy({ id, fileId, deploymentId: DEPLOYMENT, state: 'uploading', createdAt: unixSeconds() - 600, leaseExpiresAt: nowSeconds() - 1 });
      return id;
    }

    test('a copy left uploading by a crashed upload does not hold up a batch create: the create settles it and uploads afresh', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      const stuck = await crashedUpload(file.id);
      // Before the fix the create polled the stuck copy for 120 s, then answered 503.
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { timeout: 10_000 });
      assert.equal(batch.input_file_id, file.id);
      const copy = await files.findCopy(file.id, DEPLOYMENT);
      assert.ok(copy && copy.id !== stuck, 'the stuck copy was replaced');
      assert.equal(copy.state, 'active');
      assert.ok(copy.providerFileId && upstreams.openai.files.has(copy.providerFileId));
    });

    test('the file janitor settles a copy stuck uploading, and leaves an upload that is alive alone', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      const stuck = await crashedUpload(file.id);
      await portico.jobs.janitor.runOnce();
      assert.equal(await files.findCopy(file.id, DEPLOYMENT), undefined, 'the stuck copy is gone');
      const live = newFileCopyId();
      await files.insertCopy({ id: live, fileId: file.id, deploymentId: DEPLOYMENT, state: 'uploading', createdAt: unixSeconds(), leaseExpiresAt: nowSeconds() + 60 });
      await portico.jobs.janitor.runOnce();
      assert.equal((await files.findCopy(file.id, DEPLOYMENT))?.id, live, 'a leased upload is not touched');
      assert.notEqual(live, stuck);
      await files.deleteCopy(live);
    });

    /**
     * A create whose copy upload the provider answered, and whose instance "died" right then:
     * recording the provider's id fails, so the row stays `uploading` and its lease runs out.
     * Answers the provider file that copy left behind.
     */
    async function diedAfterTheProviderAnswered(fileId: string): Promise<string> {
      const known = new Set(upstreams.openai.files.keys());
      files.completeUpload = async () => {
        throw new Error('the instance died between the provider answer and the row update');
      };
      try {
        await assert.rejects(client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' }, { maxRetries: 0 }));
      } finally {
        delete (files as { completeUpload?: unknown }).completeUpload;
      }
      const copy = await files.findCopy(fileId, DEPLOYMENT);
      assert.equal(copy?.state, 'uploading');
      assert.equal(copy.providerFileId, null, 'the provider id was never recorded');
      const left = [...upstreams.openai.files.values()].filter((f) => !known.has(f.id) && f.purpose === 'batch');
      assert.equal(left.length, 1, 'the provider holds the copy');
      // Nobody renews the lease any more: it runs out.
      await files.renewUpload(copy.id, nowSeconds() - 1);
      return left[0]!.id;
    }

    test('the janitor deletes the provider copy of an upload that died before its provider id was recorded', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      const orphan = await diedAfterTheProviderAnswered(file.id);
      await portico.jobs.janitor.runOnce();
      assert.equal(await files.findCopy(file.id, DEPLOYMENT), undefined, 'the stuck copy is gone');
      assert.equal(upstreams.openai.files.has(orphan), false, 'its provider copy was found by its name and deleted');
    });

    test('a create that finds such a copy deletes its provider copy and uploads afresh', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      const orphan = await diedAfterTheProviderAnswered(file.id);
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { timeout: 10_000 });
      assert.equal(batch.input_file_id, file.id);
      const copy = await files.findCopy(file.id, DEPLOYMENT);
      assert.ok(copy?.providerFileId && copy.providerFileId !== orphan && upstreams.openai.files.has(copy.providerFileId));
      assert.equal(upstreams.openai.files.has(orphan), false, 'the lost copy was deleted, not left beside the new one');
    });

    test('a file deleted while its copy uploads keeps no provider copy and starts no batch', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      const providerFiles = new Set(upstreams.openai.files.keys());
      const providerBatches = upstreams.openai.batches.size;
      upstreams.openai.setLatency(1_500);
      try {
        const creating = client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const outcome = creating.then(
          (batch) => ({ batch }),
          (error: unknown) => ({ error }),
        );
        await until(async () => (await files.findCopy(file.id, DEPLOYMENT))?.state === 'uploading', 'the copy is uploading');
        assert.deepEqual(await client.files.delete(file.id), { id: file.id, object: 'file', deleted: true });
        const result = await outcome;
        assert.ok('error' in result, `the create must fail, got batch ${'batch' in result ? result.batch.id : ''}`);
        assert.ok(result.error instanceof OpenAI.NotFoundError, `a 404 for the deleted input, got ${String(result.error)}`);
      } finally {
        upstreams.openai.setLatency(0);
      }
      assert.equal(upstreams.openai.batches.size, providerBatches, 'no provider batch was started from the deleted file');
      const leftovers = [...upstreams.openai.files.values()].filter((f) => !providerFiles.has(f.id) && f.purpose === 'batch');
      assert.deepEqual(leftovers.map((f) => f.id), [], 'the copy that finished uploading after the delete was deleted at the provider');
      assert.equal((await files.copiesOf(file.id)).length, 0);
      assert.equal((await client.batches.list()).data.filter((b) => b.input_file_id === file.id).length, 0);
    });

    test('a batch create whose client goes away mid-upload releases the copy it was uploading', async () => {
      const file = await uploadBatchFile(client, chatLines('gpt-4o-mini'));
      upstreams.openai.setLatency(1_500);
      try {
        const abort = new AbortController();
        const creating = client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { signal: abort.signal });
        await until(async () => (await files.findCopy(file.id, DEPLOYMENT))?.state === 'uploading', 'the copy is uploading');
        abort.abort();
        await assert.rejects(creating);
        await until(async () => (await files.findCopy(file.id, DEPLOYMENT)) === undefined, 'the aborted upload released its copy');
      } finally {
        upstreams.openai.setLatency(0);
      }
      // The file is usable at once: the next create uploads its own copy.
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { timeout: 10_000 });
      assert.equal(batch.input_file_id, file.id);
    });
  });
}
