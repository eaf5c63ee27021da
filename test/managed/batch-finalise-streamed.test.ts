/**
 * Finalising an emulated batch writes its output and error files as streams (issue 15): the
 * results are read from the items page by page and reach the blob store in chunks of at most
 * 64 KiB, whatever the size of a line, and the files hold the same bytes as one line per write
 * did. A finalisation that fails part-way (the database goes away while the output is read, or
 * while the error file is) leaves no file behind, neither half-written nor whole, and the batch
 * is finalised by the next sync. The engine's lines are written from the JSON text their items
 * store, not parsed and encoded again, except those with an error message to redact: the bytes
 * are the same either way, redaction included, and the batch's usage is summed on the way.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { BatchSynchronizer, type BatchSyncDeps } from '../../src/managed/batches/batch-sync.ts';
import { EmulatedExecutor } from '../../src/managed/batches/executors/emulated.ts';
import { redactLine } from '../../src/managed/batches/result-lines.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { Router } from '../../src/routing/router.ts';
import type { BatchOutputLine } from '../../src/spec/openai-objects.ts';
import { createRedactor } from '../../src/spec/redaction.ts';
import { STREAM_CHUNK_BYTES } from '../../src/spec/stream-window.ts';
import { BatchItemStore, type BatchItemCompletion, type BatchItemResultText, type BatchItemState } from '../../src/storage/batch-item-store.ts';
import { BatchStore } from '../../src/storage/batch-store.ts';
import { LocalBlobStore, type BlobPutOptions, type StoredBlob } from '../../src/storage/blob-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { newBatch, newFile } from '../storage/fixtures.ts';

const LINES = 1_200; // about five pages of results (250 each) and several 64 KiB chunks
const HUGE_LINE = 7; // its answer is 200 KB: cut across chunks
const SECRET = 'sk-upstream-secret-123456';
const redact = createRedactor([SECRET]);
const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

function resultOf(lineIndex: number): BatchItemCompletion['outcome'] {
  if (lineIndex % 4 === 3) {
    return { state: 'failed', result: { id: `batch_req_${lineIndex}`, custom_id: `req-${lineIndex}`, response: { status_code: 400, request_id: `r${lineIndex}`, body: { error: { message: `bad request ${lineIndex}${lineIndex % 8 === 3 ? ` (key ${SECRET})` : ''}: ${'the model does not accept this parameter; '.repeat(6)}`, type: 'invalid_request_error', param: null, code: null } } }, error: null } };
  }
  // Multi-byte characters, so chunk boundaries fall inside characters too.
  // An answer that quotes the secret or an error object is no error message: it is left as the model wrote it.
  const content = lineIndex === HUGE_LINE ? 'é€😀'.repeat(20_000) : `answer ${lineIndex} — ünïcödé ${'x'.repeat(lineIndex % 97)}${lineIndex % 10 === 0 ? ` ${SECRET} {"error":{"message":"quoted"}}` : ''}`;
  return {
    state: 'succeeded',
    result: { id: `batch_req_${lineIndex}`, custom_id: `req-${lineIndex}`, response: { status_code: 200, request_id: `r${lineIndex}`, body: { choices: [{ index: 0, message: { role: 'assistant', content } }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } } }, error: null },
    inputTokens: 3,
    outputTokens: 5,
  };
}

/** The file as one write per line produced it: each line encoded alone, in line order. */
function expectedFile(states: readonly BatchItemState[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < LINES; i++) {
    const outcome = resultOf(i);
    if (states.includes(outcome.state)) parts.push(Buffer.from(`${JSON.stringify(redactLine(outcome.result as BatchOutputLine, redact))}\n`));
  }
  return Buffer.concat(parts);
}

/** Items whose reads fail part-way through one file's pass while `failIn` names it. */
class FlakyItems extends BatchItemStore {
  failIn: 'output' | 'error' | null = null;
  override async *iterateResultTexts(batchId: string, options: { pageSize?: number; states?: readonly BatchItemState[] } = {}): AsyncGenerator<BatchItemResultText> {
    const pass = options.states?.includes('succeeded') ? 'output' : 'error';
    let read = 0;
    for await (const item of super.iterateResultTexts(batchId, options)) {
      // Past the first page of this pass (300 error lines, 900 output lines): some of the file has reached the store.
      if (this.failIn === pass && ++read > 260) throw new Error('connection terminated unexpectedly');
      yield item;
    }
  }
}

/** A local store that records the size of every chunk it is handed. */
class ObservedBlobs extends LocalBlobStore {
  chunkSizes: number[] = [];
  override put(content: Readable, options?: BlobPutOptions): Promise<StoredBlob> {
    const seen = this.chunkSizes;
    // Lazy: nothing flows (and no read error surfaces) before the store itself reads, so an error
    // of the source reaches the store's own pipeline instead of an unattached stream.
    async function* observed(): AsyncGenerator<Buffer> {
      for await (const chunk of content as AsyncIterable<Buffer>) {
        seen.push(chunk.length);
        yield chunk;
      }
    }
    return super.put(Readable.from(observed(), { objectMode: false }), options);
  }
}

forEachDatabase('finalising an emulated batch streams its files', (ctx) => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-finalise-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function setUp(name: string) {
    const blobDir = join(dir, `${ctx.dialect}-${name}`);
    const batches = new BatchStore(ctx.db);
    const files = new FileStore(ctx.db);
    const items = new FlakyItems(ctx.db);
    const blobs = new ObservedBlobs(blobDir);
    const input = newFile();
    await files.insert(input);
    const batch = newBatch(input.id, { status: 'in_progress', execution: 'emulated', inProgressAt: 1_750_000_001, nextSyncAt: 1 });
    await batches.insert(batch);
    await items.insertItems(Array.from({ length: LINES }, (_, i) => ({ batchId: batch.id, lineIndex: i, customId: `req-${i}`, request: {} })));
    const leased = await items.leaseItems(batch.id, 'engine', LINES, 60_000);
    assert.equal(leased.length, LINES);
    const recorded = await items.completeItems(leased.map((item) => ({ key: { batchId: batch.id, lineIndex: item.lineIndex }, lease: { owner: 'engine', attempt: item.attempts }, outcome: resultOf(item.lineIndex) })));
    assert.ok(recorded.every(Boolean));
    const router = { redact, deployment: () => undefined } as unknown as Router;
    const sync = new BatchSynchronizer({
      router,
      batches,
      blobs,
      executors: [new EmulatedExecutor({ router, items, batches, files, blobs })],
      files: { batchFileDefaultExpirySeconds: 0 },
      logger: silent,
      instanceId: 'test',
    } as unknown as BatchSyncDeps);
    const contentOf = async (fileId: string | null): Promise<Buffer> => {
      const record = await files.getById(fileId!);
      const parts: Buffer[] = [];
      for await (const chunk of await blobs.get(record!.blobKey!)) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    };
    return { batchId: batch.id, batches, items, blobs, blobDir, sync, contentOf };
  }

  test('the output and error files are written in chunks of at most 64 KiB and hold the same bytes as one write per line', async () => {
    const { batchId, batches, blobs, sync, contentOf } = await setUp('whole');
    assert.ok(await sync.syncIfFree(batchId));
    const batch = await batches.getById(batchId);
    assert.equal(batch?.status, 'completed');
    assert.deepEqual(await contentOf(batch!.outputFileId), expectedFile(['succeeded']));
    assert.deepEqual(await contentOf(batch!.errorFileId), expectedFile(['failed']));
    assert.ok(!expectedFile(['failed']).includes(SECRET), 'error messages are redacted');
    assert.ok(expectedFile(['succeeded']).includes(SECRET), 'answers are not');
    // 900 succeeded lines of 3 input and 5 output tokens each, summed while the output was written.
    assert.deepEqual(batch!.usage, { input_tokens: 2_700, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4_500, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7_200 });
    const expectedBytes = expectedFile(['succeeded']).length + expectedFile(['failed']).length;
    assert.ok(Math.max(...blobs.chunkSizes) <= STREAM_CHUNK_BYTES, `largest chunk ${Math.max(...blobs.chunkSizes)} bytes`);
    // Packed, not one write per line: about as many chunks as the files have 64 KiB (one more per file at most).
    assert.ok(blobs.chunkSizes.length <= Math.ceil(expectedBytes / STREAM_CHUNK_BYTES) + 2, `${blobs.chunkSizes.length} chunks for ${expectedBytes} bytes`);
  });

  for (const failIn of ['output', 'error'] as const) {
    test(`a finalisation that fails while reading the ${failIn} file's results leaves no file, and the next sync finalises the batch`, async () => {
      const { batchId, batches, items, blobDir, sync, contentOf } = await setUp(`fail-${failIn}`);
      items.failIn = failIn;
      assert.ok(await sync.syncIfFree(batchId));
      const failed = await batches.getById(batchId);
      assert.equal(failed?.status, 'finalizing', 'not terminal: nothing was registered');
      assert.equal(failed?.outputFileId, null);
      assert.equal(failed?.errorFileId, null);
      assert.equal(failed?.syncFailures, 1);
      assert.deepEqual(await readdir(blobDir), [], 'no blob, whole or half-written, is left behind');

      items.failIn = null;
      assert.ok(await sync.syncIfFree(batchId));
      const finalised = await batches.getById(batchId);
      assert.equal(finalised?.status, 'completed');
      assert.deepEqual(await contentOf(finalised!.outputFileId), expectedFile(['succeeded']));
      assert.deepEqual(await contentOf(finalised!.errorFileId), expectedFile(['failed']));
      assert.equal((await readdir(blobDir)).length, 2, 'exactly the two registered files');
    });
  }
});
