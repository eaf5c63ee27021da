/**
 * The `BlobStore` contract, run on every store: a directory, the database (SQLite and
 * PostgreSQL), S3 (s3rver) and Azure Blob Storage (Azurite). What is particular to one store
 * (chunk rows, temporary files) is tested in its own file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { PayloadTooLargeError } from '../../src/spec/errors.ts';
import { AzureBlobStore } from '../../src/storage/azure-blob-store.ts';
import { BlobNotFoundError, LocalBlobStore, type BlobStore } from '../../src/storage/blob-store.ts';
import { DatabaseBlobStore } from '../../src/storage/database-blob-store.ts';
import { S3BlobStore } from '../../src/storage/s3-blob-store.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { startAzurite, startS3Emulator } from '../helpers/object-storage.ts';
import { generatedStream } from './generated-stream.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

interface StoreUnderTest {
  store: BlobStore;
  /** Half-written remains of puts (temporary files, unfinished rows, multipart uploads, uncommitted blocks). */
  unfinished(): Promise<number>;
  /** What a put cut off by a crash leaves behind, started two hours ago where the store can say so. */
  leaveCrashedPut(): Promise<void>;
  close(): Promise<void>;
}

const stores: Record<string, () => Promise<StoreUnderTest>> = {
  async directory() {
    const dir = await mkdtemp(join(tmpdir(), 'portico-blob-contract-'));
    return {
      store: new LocalBlobStore(dir),
      unfinished: async () => (await readdir(dir).catch(() => [])).filter((name) => name.startsWith('.tmp-')).length,
      async leaveCrashedPut() {
        const path = join(dir, `.tmp-blob_${'c'.repeat(32)}`);
        await writeFile(path, 'half');
        const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
        await utimes(path, twoHoursAgo, twoHoursAgo);
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
  ...Object.fromEntries(
    (['sqlite', 'postgres'] as const).map((dialect) => [
      `database [${dialect}]`,
      async (): Promise<StoreUnderTest> => {
        const database = await createTestDatabase(dialect);
        const db = database.db.kysely;
        return {
          // Small chunks, so that the larger tests cut many.
          store: new DatabaseBlobStore(database.db, { chunkBytes: 256 * KiB }),
          unfinished: async () => (await db.selectFrom('blobs').select('key').where('completed_at', 'is', null).execute()).length,
          async leaveCrashedPut() {
            const key = `blob_${'c'.repeat(32)}`;
            await db.insertInto('blobs').values({ key, bytes: 0, sha256: '', created_at: Math.floor(Date.now() / 1000) - 7200, completed_at: null }).execute();
            await db.insertInto('blob_chunks').values({ blob_key: key, seq: 0, data: Buffer.from('half') }).execute();
          },
          close: () => database.dispose(),
        };
      },
    ]),
  ),
  async s3() {
    const emulator = await startS3Emulator();
    const credentials = { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey };
    const store = new S3BlobStore({ bucket: emulator.bucket, prefix: 'portico/files', endpoint: emulator.endpoint, forcePathStyle: true, credentials });
    const uploadsDir = join(emulator.dir, emulator.bucket, '._S3rver_uploads');
    return {
      store,
      unfinished: async () => (await readdir(uploadsDir).catch(() => [])).length,
      async leaveCrashedPut() {
        // A multipart upload begun, one part sent, never completed nor aborted.
        const client = new S3Client({ region: 'us-east-1', endpoint: emulator.endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
        const Key = `portico/files/blob_${'c'.repeat(32)}`;
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: emulator.bucket, Key }));
        await client.send(new UploadPartCommand({ Bucket: emulator.bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1) }));
        client.destroy();
        // s3rver dates an upload by its files.
        const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
        await utimes(join(uploadsDir, UploadId!, 'key'), twoHoursAgo, twoHoursAgo);
      },
      async close() {
        store.close();
        await emulator.close();
      },
    };
  },
  async azure_blob() {
    const emulator = await startAzurite();
    const container = BlobServiceClient.fromConnectionString(emulator.connectionString).getContainerClient(emulator.container);
    const store = new AzureBlobStore({ auth: { connectionString: emulator.connectionString }, container: emulator.container, prefix: 'portico/files/', blockBytes: MiB });
    return {
      store,
      async unfinished() {
        // Blobs with staged blocks only (no committed content) are listed with uncommitted blobs.
        let count = 0;
        for await (const item of container.listBlobsFlat({ includeUncommitedBlobs: true })) {
          const blocks = await container.getBlockBlobClient(item.name).getBlockList('uncommitted');
          if ((blocks.uncommittedBlocks ?? []).length > 0) count += 1;
        }
        return count;
      },
      async leaveCrashedPut() {
        await container.getBlockBlobClient(`portico/files/blob_${'c'.repeat(32)}`).stageBlock(Buffer.from('000000').toString('base64'), Buffer.from('half'), 4);
      },
      close: () => emulator.close(),
    };
  },
};

async function readAll(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of stream) {
    hash.update(piece as Buffer);
    bytes += (piece as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

// What a put holds, not garbage not yet collected: memory is sampled right after a collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveMemory = () => {
  gc();
  const m = process.memoryUsage();
  // `external` already includes `arrayBuffers` (Buffers): adding both counted parts twice.
  return m.heapUsed + m.external;
};

for (const [name, open] of Object.entries(stores)) {
  describe(`blob store contract [${name}]`, () => {
    let subject: StoreUnderTest;
    let store: BlobStore;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(() => subject?.close());

    test('exact content reads back byte for byte, with its length and sha256', async () => {
      const text = '{"a":1}\n{"b":2}\n\u00e9\u0000\u00ff';
      const stored = await store.put(Readable.from([Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))]));
      assert.match(stored.key, /^blob_[0-9a-f]{32}$/);
      assert.equal(stored.bytes, Buffer.byteLength(text));
      assert.equal(stored.sha256, createHash('sha256').update(text).digest('hex'));
      assert.equal(Buffer.concat(await (await store.get(stored.key)).toArray()).toString(), text);
      await store.delete(stored.key);
    });

    test('an empty stream is a 0-byte blob', async () => {
      const stored = await store.put(Readable.from([]));
      assert.deepEqual({ bytes: stored.bytes, sha256: stored.sha256 }, { bytes: 0, sha256: createHash('sha256').digest('hex') });
      assert.deepEqual(await readAll(await store.get(stored.key)), { bytes: 0, sha256: stored.sha256 });
      await store.delete(stored.key);
    });

    test('a 64 MiB stream (many parts, blocks or chunks) is stored with flat memory and reads back identical', async () => {
      const size = 64 * MiB + 1001;
      const baseline = liveMemory();
      let peak = baseline;
      let pieces = 0;
      // Every 96 pieces of 64 KiB: each 6 MiB read from the client (a collection takes a while).
      const sample = () => {
        if (++pieces % 96 === 0) peak = Math.max(peak, liveMemory());
      };
      const source = generatedStream(size, { onChunk: sample });
      const stored = await store.put(source.stream, { maxBytes: 96 * MiB });
      const growth = peak - baseline;
      // The object stores hold a few parts or blocks (about 20 MiB with their defaults).
      assert.ok(growth < 40 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB while storing 64 MiB`);
      assert.deepEqual({ bytes: stored.bytes, sha256: stored.sha256 }, { bytes: size, sha256: source.sha256() });
      assert.deepEqual(await readAll(await store.get(stored.key)), { bytes: size, sha256: stored.sha256 });
      await store.delete(stored.key);
    });

    test('a source failing midway rejects with its error and keeps nothing', async () => {
      const before = await store.listOlderThan(0, 1000);
      // Past the first part / block / chunks, so the stores had begun writing.
      await assert.rejects(store.put(generatedStream(12 * MiB, { failAfter: 7 * MiB }).stream), /client went away/);
      assert.deepEqual(await store.listOlderThan(0, 1000), before);
      assert.equal(await subject.unfinished(), 0, 'no half-written remains');
    });

    test('a stream over maxBytes fails with 413, is destroyed unread, and keeps nothing; exactly maxBytes is allowed', async () => {
      const before = await store.listOlderThan(0, 1000);
      const source = generatedStream(30 * MiB);
      await assert.rejects(store.put(source.stream, { maxBytes: 6 * MiB }), (error: unknown) => error instanceof PayloadTooLargeError && error.httpStatus === 413);
      assert.equal(source.stream.destroyed, true);
      assert.ok(source.sent() < 30 * MiB, 'the source was not read to its end');
      assert.deepEqual(await store.listOlderThan(0, 1000), before);
      assert.equal(await subject.unfinished(), 0, 'no half-written remains');
      const exact = await store.put(generatedStream(MiB).stream, { maxBytes: MiB });
      assert.equal(exact.bytes, MiB);
      await store.delete(exact.key);
    });

    test('a missing blob is BlobNotFoundError on read; deleting twice is fine', async () => {
      await assert.rejects(store.get(`blob_${'0'.repeat(32)}`), BlobNotFoundError);
      const stored = await store.put(Readable.from([Buffer.from('x')]));
      await store.delete(stored.key);
      await store.delete(stored.key);
      await assert.rejects(store.get(stored.key), BlobNotFoundError);
    });

    test('keys not made by a store are refused', async () => {
      for (const key of ['../../etc/passwd', 'blob_../../x', '', 'BLOB_0123', `blob_${'0'.repeat(31)}/`, `blob_${'A'.repeat(32)}`]) {
        await assert.rejects(store.get(key), TypeError, key);
        await assert.rejects(store.delete(key), TypeError, key);
      }
    });

    test('listOlderThan lists complete blobs stored longer ago than asked, at most limit', async () => {
      const first = await store.put(Readable.from([Buffer.from('one')]));
      const second = await store.put(Readable.from([Buffer.from('two')]));
      const all = await store.listOlderThan(0, 1000);
      assert.ok(all.includes(first.key) && all.includes(second.key), 'both listed');
      assert.equal((await store.listOlderThan(0, 1)).length, 1);
      assert.deepEqual(await store.listOlderThan(3600, 1000), [], 'none stored an hour ago');
      await store.delete(first.key);
      await store.delete(second.key);
    });

    test('sweepUnfinished removes what a put cut off by a crash left, once old enough, and never a complete blob', async () => {
      const kept = await store.put(Readable.from([Buffer.from('complete')]));
      await subject.leaveCrashedPut();
      const left = await subject.unfinished();
      assert.equal(left, 1);
      if (store instanceof AzureBlobStore) {
        // Azure removes uncommitted blocks by itself (after 7 days): nothing for the sweep to do.
        assert.equal(await store.sweepUnfinished(0), 0);
      } else {
        assert.equal(await store.sweepUnfinished(3 * 3600), 0, 'not old enough yet');
        assert.equal(await store.sweepUnfinished(3600), 1);
        assert.equal(await subject.unfinished(), 0);
      }
      assert.equal(Buffer.concat(await (await store.get(kept.key)).toArray()).toString(), 'complete');
      await store.delete(kept.key);
    });
  });
}
