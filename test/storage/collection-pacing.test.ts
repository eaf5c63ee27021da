/**
 * Issue 15: dead file chunks awaiting collection stay about COLLECT_EVERY_BYTES
 * (`src/storage/collection-pacing.ts`), however many bytes a stream moves. Measured in bytes
 * (ArrayBuffers held, as V8 counts them), never in time: 128 MiB of fresh chunks go through the
 * hashing meter every blob store puts through, and are dropped at once. Without pacing, V8
 * collects them only once they reach its external-memory limit (64 MB above the last collection):
 * a stream that only moves bytes makes too few JavaScript objects to fill the young generation.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { STREAM_CHUNK_BYTES } from '../../src/spec/stream-window.ts';
import { HashingMeter } from '../../src/storage/blob-store.ts';
import { COLLECT_EVERY_BYTES, collectionPacingActive } from '../../src/storage/collection-pacing.ts';

const MiB = 1024 * 1024;

test('chunks moved through a blob store put are collected every few MiB: what awaits collection does not grow with the bytes moved', async (t) => {
  if (process.env.PORTICO_COLLECTION_PACING !== '0') assert.equal(collectionPacingActive(), true, 'the young-generation collector is reachable');
  const total = 128 * MiB;
  let made = 0;
  let mostHeld = 0;
  const source = new Readable({
    read() {
      mostHeld = Math.max(mostHeld, process.memoryUsage().arrayBuffers);
      if (made >= total) return void this.push(null);
      made += STREAM_CHUNK_BYTES;
      this.push(Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES));
    },
  });
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const before = process.memoryUsage().arrayBuffers;
  await pipeline(source, new HashingMeter(undefined), sink);
  const grown = mostHeld - before;
  // COLLECT_EVERY_BYTES awaiting the next collection, up to three times that still being freed
  // by V8's background sweeper (it lags on a busy machine: 9-12 MiB measured on 2 busy CPUs),
  // and the windows of the three streams. Unpaced, 55-60 MiB.
  const bound = 4 * COLLECT_EVERY_BYTES + 4 * MiB;
  t.diagnostic(`ArrayBuffers grew by at most ${(grown / MiB).toFixed(1)} MiB while ${total / MiB} MiB moved (bound ${bound / MiB} MiB)`);
  assert.ok(grown <= bound, `${(grown / MiB).toFixed(1)} MiB of chunks were held at once while ${total / MiB} MiB moved`);
});
