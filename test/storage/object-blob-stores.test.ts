/**
 * What is particular to the object-storage blob stores (the contract they share with the others
 * is blob-store-contract.test.ts): they share a bucket or container with whatever else is in it,
 * and reach Azure by key or SAS as well as by connection string.
 */
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, ContainerSASPermissions } from '@azure/storage-blob';
import { AzureBlobStore } from '../../src/storage/azure-blob-store.ts';
import { accountNameOf } from '../../src/storage/azure-account.ts';
import { S3BlobStore } from '../../src/storage/s3-blob-store.ts';
import { startAzurite, startS3Emulator, type AzuriteEmulator, type S3Emulator } from '../helpers/object-storage.ts';

const FOREIGN_BLOB_KEY = `blob_${'f'.repeat(32)}`;

describe('S3 blob store in a shared bucket', () => {
  let emulator: S3Emulator;
  let client: S3Client;
  before(async () => {
    emulator = await startS3Emulator();
    client = new S3Client({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });
  after(async () => {
    client?.destroy();
    await emulator?.close();
  });

  test('objects and uploads not its own (another prefix, another name) are never listed, swept or aborted', async () => {
    const store = new S3BlobStore({ bucket: emulator.bucket, prefix: 'portico/files', endpoint: emulator.endpoint, forcePathStyle: true, credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey } });
    try {
      const Bucket = emulator.bucket;
      for (const Key of ['portico/files/notes.txt', `other/${FOREIGN_BLOB_KEY}`, `portico/files/nested/${FOREIGN_BLOB_KEY}`, FOREIGN_BLOB_KEY]) {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: 'not Portico\'s' }));
      }
      const foreignUpload = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: `other/${FOREIGN_BLOB_KEY}` }));
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      await utimes(join(emulator.dir, Bucket, '._S3rver_uploads', foreignUpload.UploadId!, 'key'), twoDaysAgo, twoDaysAgo);

      const own = await store.put(Readable.from([Buffer.from('mine')]));
      assert.deepEqual(await store.listOlderThan(0, 100), [own.key], 'only its own key, under its prefix');
      assert.equal(await store.sweepUnfinished(3600), 0);
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket }));
      assert.deepEqual(uploads.Uploads?.map((upload) => upload.UploadId), [foreignUpload.UploadId], 'the foreign upload was left alone');
    } finally {
      store.close();
    }
  });
});

describe('Azure blob store credentials', () => {
  let emulator: AzuriteEmulator;
  before(async () => {
    emulator = await startAzurite();
  });
  after(() => emulator?.close());

  test('the account name is read from the account URL, host or path style', () => {
    assert.equal(accountNameOf('https://acme.blob.core.windows.net'), 'acme');
    assert.equal(accountNameOf('https://acme.blob.core.chinacloudapi.cn/'), 'acme');
    assert.equal(accountNameOf('http://127.0.0.1:10000/devstoreaccount1'), 'devstoreaccount1');
    assert.equal(accountNameOf('https://files.example.com'), undefined);
  });

  test('an account URL with the account key, or with a SAS token, reaches the container the connection string does', async () => {
    const byConnection = new AzureBlobStore({ auth: { connectionString: emulator.connectionString }, container: emulator.container });
    const stored = await byConnection.put(Readable.from([Buffer.from('shared')]));
    const byKey = new AzureBlobStore({
      auth: { accountUrl: emulator.accountUrl, accountName: accountNameOf(emulator.accountUrl)!, accountKey: emulator.accountKey },
      container: emulator.container,
    });
    assert.equal(Buffer.concat(await (await byKey.get(stored.key)).toArray()).toString(), 'shared');
    const container = BlobServiceClient.fromConnectionString(emulator.connectionString).getContainerClient(emulator.container);
    const sasUrl = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3600_000) });
    const bySas = new AzureBlobStore({ auth: { accountUrl: emulator.accountUrl, sasToken: new URL(sasUrl).search }, container: emulator.container });
    assert.equal(Buffer.concat(await (await bySas.get(stored.key)).toArray()).toString(), 'shared');
    const written = await bySas.put(Readable.from([Buffer.from('by sas')]));
    assert.ok((await byKey.listOlderThan(0, 100)).includes(written.key));
    await bySas.delete(written.key);
    await byKey.delete(stored.key);
  });

  test('blobs not its own (another prefix, another name) are never listed', async () => {
    const container = BlobServiceClient.fromConnectionString(emulator.connectionString).getContainerClient(emulator.container);
    for (const name of ['portico/files/notes.txt', `other/${FOREIGN_BLOB_KEY}`, `portico/files/nested/${FOREIGN_BLOB_KEY}`]) {
      await container.getBlockBlobClient(name).upload('x', 1);
    }
    const store = new AzureBlobStore({ auth: { connectionString: emulator.connectionString }, container: emulator.container, prefix: 'portico/files/' });
    const own = await store.put(Readable.from([Buffer.from('mine')]));
    assert.deepEqual(await store.listOlderThan(0, 100), [own.key]);
  });
});
