/**
 * What is particular to the directory store; the behaviour every store shares is in
 * blob-store-contract.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { LocalBlobStore } from '../../src/storage/blob-store.ts';
import { generatedStream } from './generated-stream.ts';

const MiB = 1024 * 1024;

describe('local blob store', () => {
  let dir: string;
  let blobs: LocalBlobStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-blobs-'));
    blobs = new LocalBlobStore(join(dir, 'nested', 'blobs'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the directory is made on first use, and a blob is one file named by its key', async () => {
    const stored = await blobs.put(Readable.from([Buffer.from('{"a":1}\n')]));
    assert.deepEqual(await readdir(join(dir, 'nested', 'blobs')), [stored.key]);
    await blobs.delete(stored.key);
  });

  test('a stream that fails midway or runs over maxBytes leaves no file behind, temporary or not', async () => {
    const before = await readdir(join(dir, 'nested', 'blobs'));
    await assert.rejects(blobs.put(generatedStream(10 * MiB, { failAfter: 2 * MiB }).stream), /client went away/);
    await assert.rejects(blobs.put(generatedStream(10 * MiB).stream, { maxBytes: MiB }));
    assert.deepEqual(await readdir(join(dir, 'nested', 'blobs')), before);
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
});
