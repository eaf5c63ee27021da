/**
 * The core managed scenarios with file bytes in object storage: S3 (s3rver, on SQLite) and Azure
 * Blob Storage (Azurite, on PostgreSQL), through the official `openai` SDK. A handful of cases:
 * the full scenario set runs on the directory and database stores (files-and-batches.test.ts).
 * Emulators: test/helpers/object-storage.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import OpenAI, { toFile } from 'openai';
import { createFileJanitor } from '../../../src/jobs/file-janitor.ts';
import { BlobNotFoundError } from '../../../src/storage/blob-store.ts';
import { startAzurite, startS3Emulator, objectStoreFiles, type AzuriteEmulator, type S3Emulator } from '../../helpers/object-storage.ts';
import {
  chatLines,
  expectStatus,
  parseJsonl,
  readContent,
  runToEnd,
  startManagedGateway,
  uploadBatchFile,
  type ManagedGateway,
} from './managed-fixtures.ts';

const MiB = 1024 * 1024;
const MAX_FILE_BYTES = 16 * MiB;

const variants = [
  { blobStore: 's3', dialect: 'sqlite', start: startS3Emulator },
  { blobStore: 'azure_blob', dialect: 'postgres', start: startAzurite },
] as const;

for (const variant of variants) {
  describe(`managed files and batches on ${variant.blobStore} (${variant.dialect})`, () => {
    let emulator: S3Emulator | AzuriteEmulator;
    let gateway: ManagedGateway;
    let client: OpenAI;
    const storedKeys = () => gateway.portico.services.managed!.blobs.listOlderThan(0, 1000);

    before(async () => {
      emulator = await variant.start();
      const filesYaml = `${objectStoreFiles(emulator)}    max_file_bytes: ${MAX_FILE_BYTES}\n`;
      gateway = await startManagedGateway(variant.dialect, undefined, { blobStore: variant.blobStore, filesYaml });
      client = gateway.client;
    });
    after(async () => {
      await gateway?.close();
      await emulator?.close();
    });

    test('a batch runs end to end on OpenAI and on Azure, its input and results kept in the store', async () => {
      for (const model of ['gpt-4o-mini', 'azure-gpt-4o']) {
        const file = await uploadBatchFile(client, chatLines(model, { count: 3, text: (i) => (i === 1 && model === 'azure-gpt-4o' ? 'FAIL' : `q${i}`) }));
        const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const done = await runToEnd(client, gateway.upstreams, batch.id);
        assert.equal(done.status, 'completed', model);
        const output = parseJsonl(await readContent(client, done.output_file_id!));
        if (model === 'azure-gpt-4o') {
          assert.equal(output.length, 2);
          assert.equal(parseJsonl(await readContent(client, done.error_file_id!)).length, 1);
        } else {
          assert.deepEqual(output.map((line) => line.custom_id).sort(), ['request-0', 'request-1', 'request-2']);
        }
      }
      assert.ok((await storedKeys()).length >= 4, 'inputs and outputs are objects in the store');
    });

    test('a 12 MiB file (several parts or blocks) downloads byte for byte, and deleting it removes its object', async () => {
      const before = await storedKeys();
      const bytes = Buffer.alloc(12 * MiB + 3);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
      const file = await client.files.create({ file: await toFile(bytes, 'big.bin'), purpose: 'user_data' });
      assert.equal(file.bytes, bytes.length);
      const added = (await storedKeys()).filter((key) => !before.includes(key));
      assert.equal(added.length, 1);
      const content = Buffer.from(await (await client.files.content(file.id)).arrayBuffer());
      assert.equal(createHash('sha256').update(content).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
      await client.files.delete(file.id);
      assert.deepEqual(await storedKeys(), before);
      await expectStatus(client.files.content(file.id), 404);
    });

    test('the file janitor removes objects no file references and aborts multipart uploads a crash left, keeping registered files', async () => {
      const managed = gateway.portico.services.managed!;
      const kept = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 2 }));
      // A crash between writing a blob and registering its file.
      const orphan = await managed.blobs.put(Readable.from([Buffer.from('never registered')]));
      let staleUpload: string | undefined;
      if ('bucket' in emulator) {
        // A crash in the middle of a multipart upload, two days ago (s3rver dates it by its files).
        const credentials = { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey };
        const s3 = new S3Client({ region: 'us-east-1', endpoint: emulator.endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: emulator.bucket, Key: `portico/files/blob_${'e'.repeat(32)}` }));
        s3.destroy();
        staleUpload = created.UploadId!;
        const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
        await utimes(join(emulator.dir, emulator.bucket, '._S3rver_uploads', staleUpload, 'key'), twoDaysAgo, twoDaysAgo);
      }
      const janitor = createFileJanitor(managed.deletion, gateway.portico.services.logger, 60_000, { orphanedBlobSeconds: 0 });
      await janitor.runOnce();
      const keys = await storedKeys();
      assert.ok(!keys.includes(orphan.key), 'the orphan is gone');
      await assert.rejects(managed.blobs.get(orphan.key), BlobNotFoundError);
      if (staleUpload !== undefined && 'bucket' in emulator) {
        assert.deepEqual(await readdir(join(emulator.dir, emulator.bucket, '._S3rver_uploads')).catch(() => []), [], 'the stale multipart upload was aborted');
      }
      assert.equal(parseJsonl(await readContent(client, kept.id)).length, 2, 'a registered file keeps its bytes');
    });

    test('an upload over max_file_bytes is a 413 and keeps no object, nor an unfinished upload', async () => {
      const before = await storedKeys();
      // Past the first part: the store had begun a multipart upload, or staged blocks.
      await expectStatus(client.files.create({ file: await toFile(Buffer.alloc(MAX_FILE_BYTES + MiB, 1), 'huge.bin'), purpose: 'user_data' }), 413);
      assert.deepEqual(await storedKeys(), before);
      if ('bucket' in emulator) assert.deepEqual(await readdir(join(emulator.dir, emulator.bucket, '._S3rver_uploads')).catch(() => []), []);
    });
  });
}
