import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PayloadTooLargeError } from '../../src/spec/errors.ts';
import { BlobNotFoundError, LocalBlobStore } from '../../src/storage/blob-store.ts';
import { generatedStream } from './generated-stream.ts';

const MiB = 1024 * 1024;


async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

const memoryInUse = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

describe('local blob store', () => {
  let dir: string;
  let blobs: LocalBlobStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-blobs-'));
    blobs = new LocalBlobStore(join(dir, 'nested', 'blobs'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const leftovers = async () => (await readdir(join(dir, 'nested', 'blobs'))).filter((name) => name.startsWith('.tmp-'));

  test('stored bytes read back identical, with their length and sha256', async () => {
    const stored = await blobs.put(Readable.from([Buffer.from('{"a":1}\n'), Buffer.from('{"b":2}\n')]));
    assert.match(stored.key, /^blob_[0-9a-f]{32}$/);
    assert.equal(stored.bytes, 16);
    assert.equal(stored.sha256, createHash('sha256').update('{"a":1}\n{"b":2}\n').digest('hex'));
    const read = await blobs.get(stored.key);
    assert.equal(Buffer.concat(await read.toArray()).toString(), '{"a":1}\n{"b":2}\n');
  });

  test('a 50 MB stream is stored with flat memory and hashed correctly', async () => {
    const size = 50 * MiB;
    const baseline = memoryInUse();
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, memoryInUse());
    };
    const source = generatedStream(size, { onChunk: sample });
    const sampler = setInterval(sample, 5);
    let stored;
    try {
      stored = await blobs.put(source.stream, { maxBytes: 64 * MiB });
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    assert.ok(growth < 16 * MiB, `memory grew by ${(growth / MiB).toFixed(1)} MiB while storing 50 MiB`);
    assert.equal(stored.bytes, size);
    assert.equal(stored.sha256, source.sha256());
    const readBack = await sha256Of(await blobs.get(stored.key));
    assert.deepEqual(readBack, { sha256: stored.sha256, bytes: size });
    await blobs.delete(stored.key);
  });

  test('a stream that fails midway leaves no file behind', async () => {
    const before = await readdir(join(dir, 'nested', 'blobs'));
    await assert.rejects(blobs.put(generatedStream(10 * MiB, { failAfter: 2 * MiB }).stream), /client went away/);
    assert.deepEqual(await readdir(join(dir, 'nested', 'blobs')), before);
    assert.deepEqual(await leftovers(), []);
  });

  test('a stream over maxBytes fails with 413 and leaves no file behind', async () => {
    const before = await readdir(join(dir, 'nested', 'blobs'));
    await assert.rejects(blobs.put(generatedStream(10 * MiB).stream, { maxBytes: MiB }), (error: unknown) => {
      return error instanceof PayloadTooLargeError && error.httpStatus === 413;
    });
    assert.deepEqual(await readdir(join(dir, 'nested', 'blobs')), before);
    const exact = await blobs.put(generatedStream(MiB).stream, { maxBytes: MiB });
    assert.equal(exact.bytes, MiB, 'exactly maxBytes is allowed');
  });

  test('keys not made by the store are refused, so no path escapes the directory', async () => {
    for (const key of ['../../etc/passwd', 'blob_../../x', '', 'BLOB_0123', `blob_${'0'.repeat(31)}/`]) {
      await assert.rejects(blobs.get(key), TypeError, key);
      await assert.rejects(blobs.delete(key), TypeError, key);
    }
  });

  test('sweepUnfinished removes only temporary files left alone for longer than asked', async () => {
    const sweepDir = await mkdtemp(join(tmpdir(), 'portico-blob-sweep-'));
    try {
      const sweeper = new LocalBlobStore(sweepDir);
      assert.equal(await new LocalBlobStore(join(sweepDir, 'never-made')).sweepUnfinished(60), 0, 'no directory yet: nothing to sweep');
      const kept = await sweeper.put(Readable.from([Buffer.from('complete')]));
      const stale = join(sweepDir, `.tmp-blob_${'c'.repeat(32)}`);
      const fresh = join(sweepDir, `.tmp-blob_${'d'.repeat(32)}`);
      await writeFile(stale, 'half');
      await writeFile(fresh, 'half');
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
      await utimes(stale, twoHoursAgo, twoHoursAgo);
      assert.equal(await sweeper.sweepUnfinished(3600), 1);
      assert.deepEqual((await readdir(sweepDir)).sort(), [`.tmp-blob_${'d'.repeat(32)}`, kept.key].sort());
    } finally {
      await rm(sweepDir, { recursive: true, force: true });
    }
  });

  test('a missing blob is BlobNotFoundError on read, and deleting it twice is fine', async () => {
    const stored = await blobs.put(Readable.from([Buffer.from('x')]));
    await blobs.delete(stored.key);
    await blobs.delete(stored.key);
    await assert.rejects(blobs.get(stored.key), BlobNotFoundError);
  });
});
