/**
 * Per-owner quotas of stored files (`portico_settings.files.max_bytes_per_owner`,
 * `max_files_per_owner`): an upload over them is a 4xx in OpenAI's envelope and stores nothing;
 * the bytes quota stops the upload while it streams, before its body has even ended.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readdir } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';
import { startPorticoWithStorage, type PorticoUnderTest, type PorticoWithStorage } from '../../helpers/portico.ts';

const MASTER_KEY = 'sk-quota-master-0123456789';

async function upload(client: OpenAI, bytes: number, name = 'notes.txt') {
  return client.files.create({ file: await toFile(Buffer.alloc(bytes, 'a'), name), purpose: 'user_data' });
}

async function rejects(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code);
    assert.equal(error.type, status === 413 ? 'invalid_request_error' : 'permission_error');
    return true;
  });
}

/**
 * Sends a multipart upload whose file part never ends; answers the status Portico replied with
 * while the body was still open (the request is then destroyed).
 */
function uploadThatNeverEnds(portico: PorticoUnderTest, apiKey: string, bytesBeforeStall: number): Promise<number> {
  const boundary = 'quota-boundary';
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${portico.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('response', (response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      req.destroy();
    });
    req.on('error', (error) => reject(error));
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n`);
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`);
    req.write(Buffer.alloc(bytesBeforeStall, 'b'));
    // No end: the file part stays open.
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`per-owner file quotas (${dialect})`, () => {
    let portico: PorticoWithStorage;

    before(async () => {
      portico = await startPorticoWithStorage(
        (storageDir) => `
model_list:
  - model_name: mock-model
    litellm_params:
      model: mock/mock-model
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${storageDir}
    max_bytes_per_owner: 100000
    max_files_per_owner: 3
`,
        { dialect },
      );
    });
    after(() => portico?.close());

    const storedBlobs = async () => (await readdir(portico.storageDir, { recursive: true })).filter((name) => !name.startsWith('.')).length;

    test('an upload past the bytes left is a 413 that stores nothing; smaller ones still fit', async () => {
      const { key } = await portico.generateKey({ user_id: 'bytes-owner' });
      const client = portico.client(key);
      await upload(client, 60_000);
      const blobsBefore = await storedBlobs();
      await rejects(upload(client, 50_000), 413, 'storage_quota_exceeded');
      assert.equal(await storedBlobs(), blobsBefore, 'nothing of the refused upload was kept');
      assert.equal((await client.files.list()).data.length, 1);
      await upload(client, 40_000);
      // Full: even one byte more is refused before anything is read.
      await rejects(upload(client, 1), 413, 'storage_quota_exceeded');
      // Another owner has a quota of its own; the master key has none.
      const { key: otherKey } = await portico.generateKey({ user_id: 'someone-else' });
      await upload(portico.client(otherKey), 60_000);
      await upload(portico.client(), 150_000);
    });

    test('the bytes quota stops an upload while it streams, before its body ends', async () => {
      const { key } = await portico.generateKey({ user_id: 'streaming-owner' });
      const blobsBefore = await storedBlobs();
      assert.equal(await uploadThatNeverEnds(portico, key, 200_000), 413);
      // The partial blob is removed once the store has seen the error.
      const deadline = Date.now() + 10_000;
      while ((await storedBlobs()) !== blobsBefore) {
        assert.ok(Date.now() < deadline, 'the partial upload was not removed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    test('uploads of one owner racing each other are recorded only as far as they fit', async () => {
      // Each alone fits (the checks before and while streaming pass for all of them); together they do
      // not. Four at once: the most one key may upload at a time.
      const { key } = await portico.generateKey({ user_id: 'racing-owner' });
      const client = portico.client(key);
      const blobsBefore = await storedBlobs();
      const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => upload(client, 40_000)));
      const stored = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(stored.length, 2, `exactly two of 40 000 bytes fit in 100 000: ${outcomes.map((o) => o.status).join(', ')}`);
      for (const outcome of outcomes) if (outcome.status === 'rejected') await rejects(Promise.reject(outcome.reason), 413, 'storage_quota_exceeded');
      assert.equal((await client.files.list()).data.length, 2);
      assert.equal(await storedBlobs(), blobsBefore + 2, 'the refused uploads kept nothing');

      const { key: countKey } = await portico.generateKey({ user_id: 'racing-count-owner' });
      const counted = await Promise.allSettled(Array.from({ length: 4 }, () => upload(portico.client(countKey), 10)));
      assert.equal(counted.filter((o) => o.status === 'fulfilled').length, 3, 'exactly three files fit the file count');
    });

    test('an owner at its file count gets a 403 until it deletes one; team keys share the quota', async () => {
      const first = await portico.generateKey({ team_id: 'quota-team' });
      const second = await portico.generateKey({ team_id: 'quota-team' });
      const a = portico.client(first.key);
      const b = portico.client(second.key);
      const kept = await upload(a, 10);
      await upload(b, 10);
      await upload(a, 10);
      await rejects(upload(b, 10), 403, 'file_quota_exceeded');
      await a.files.delete(kept.id);
      await upload(b, 10);
    });
  });
}
