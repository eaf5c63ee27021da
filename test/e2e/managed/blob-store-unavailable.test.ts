/**
 * An object store that stops answering (S3 on s3rver, Azure Blob Storage on Azurite, each stopped
 * in the middle of the suite, so Portico is left pointed at a closed port) is not the client's
 * fault: an upload and a download answer 503 `blob_store_unavailable` in OpenAI's envelope, never
 * an anonymous 500, and within seconds. Plain fetch, so that no SDK retry hides the first answer. And a stop closes
 * the store's client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toFile } from 'openai';
import { startAzurite, startS3Emulator, objectStoreFiles, type AzuriteEmulator, type S3Emulator } from '../../helpers/object-storage.ts';
import { isEnvelope, startManagedGateway, type ManagedGateway } from './managed-fixtures.ts';

const variants = [
  { blobStore: 's3', dialect: 'sqlite', start: startS3Emulator },
  { blobStore: 'azure_blob', dialect: 'postgres', start: startAzurite },
] as const;

for (const variant of variants) {
  describe(`${variant.blobStore} not reachable (${variant.dialect})`, () => {
    let emulator: S3Emulator | AzuriteEmulator;
    let gateway: ManagedGateway;

    before(async () => {
      emulator = await variant.start();
      gateway = await startManagedGateway(variant.dialect, undefined, { blobStore: variant.blobStore, filesYaml: objectStoreFiles(emulator) });
    });
    after(async () => {
      await gateway?.close();
      await emulator?.close();
    });

    test('an upload and a download while the store is down are 503 blob_store_unavailable', async () => {
      const stored = await gateway.client.files.create({ file: await toFile(Buffer.from('kept before the outage'), 'notes.txt'), purpose: 'user_data' });
      await emulator.close();

      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', new Blob(['written during the outage']), 'late.txt');
      await expectUnavailable(() => gateway.portico.fetch('/v1/files', { method: 'POST', body: form }));
      await expectUnavailable(() => gateway.portico.fetch(`/v1/files/${stored.id}/content`));
    });

    if (variant.blobStore === 's3') {
      test('stopping the gateway closes the store\'s client', async () => {
        const blobs = gateway.portico.services.managed!.blobs;
        const close = blobs.close!.bind(blobs);
        let closed = 0;
        blobs.close = () => {
          closed += 1;
          return close();
        };
        await gateway.close();
        assert.equal(closed, 1);
      });
    }
  });
}

async function expectUnavailable(request: () => Promise<Response>): Promise<void> {
  const asked = Date.now();
  const response = await request();
  const body = (await response.json()) as { error: { code: string | null; type: string } };
  // The SDKs retry a refused connection a few times, briefly; the bound tells that from a wait of
  // tens of seconds (Azure's default retry waits 4 s, then 8 s, then 16 s).
  assert.ok(Date.now() - asked < 10_000, `answered after ${Date.now() - asked} ms`);
  assert.equal(response.status, 503, JSON.stringify(body));
  assert.ok(isEnvelope(body), JSON.stringify(body));
  assert.equal(body.error.code, 'blob_store_unavailable');
  assert.equal(body.error.type, 'server_error');
}
