/**
 * The inline executor streams a batch's input to the provider: each part's lines are read from
 * the blob store as the provider consumes them, so the whole file is never in memory as objects.
 * The blob store and the provider are stand-ins that record how far the file had been read when
 * each line reached the provider.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { BatchInputLine } from '../../../spec/openai-objects.ts';
import type { BatchLineSource, InlineBatchesCapability, ProviderBatch, ProviderClient } from '../../../spec/provider.ts';
import { inProgressProviderBatch } from '../../../../test/helpers/provider-batches.ts';
import { NativeInlineExecutor } from './native-inline.ts';

const LINES = 2000;
const PIECE = 16 * 1024;

function inputFile(): { text: string; lineEnds: number[] } {
  const lineEnds: number[] = [];
  let text = '';
  for (let i = 0; i < LINES; i += 1) {
    // Every third line written Azure's way: the provider must see the canonical url.
    const url = i % 3 === 0 ? '/chat/completions' : '/v1/chat/completions';
    text += `${JSON.stringify({ custom_id: `client-${i}`, method: 'POST', url, body: { model: 'claude-group', messages: [{ role: 'user', content: `${i} ${'x'.repeat(900)}` }] } })}\n`;
    lineEnds.push(Buffer.byteLength(text));
  }
  return { text, lineEnds };
}

function providerBatch(id: string, total: number): ProviderBatch {
  return inProgressProviderBatch(id, { createdAt: 1, inProgressAt: 1, requestCounts: { total, completed: 0, failed: 0 } });
}

/** `bytes` as a stream of PIECE-byte pieces; `onRead` is told how far it has been read as each piece goes out. */
function streamInPieces(bytes: Buffer, onRead: (bytesRead: number) => void): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += PIECE) {
        const piece = bytes.subarray(offset, offset + PIECE);
        onRead(offset + piece.length);
        yield piece;
      }
    })(),
    { objectMode: false },
  );
}

test('a native-inline batch is created part by part as its input streams, never materialised whole', async () => {
  const { text, lineEnds } = inputFile();
  const bytes = Buffer.from(text);
  let bytesRead = 0;
  const blobs = {
    async get() {
      bytesRead = 0;
      return streamInPieces(bytes, (read) => (bytesRead = read));
    },
  };

  const received: BatchInputLine[] = [];
  let worstReadAhead = 0;
  let index = 0;
  const capability = {
    kind: 'inline',
    maxRequestsPerBatch: 700,
    maxBytesPerBatch: 100 * 1024 * 1024,
    async create(input: { lines: BatchLineSource }) {
      assert.equal(typeof input.lines, 'function', 'the lines come as a source read on demand, not as an array');
      const part: BatchInputLine[] = [];
      for await (const line of input.lines()) {
        const i = Number(line.custom_id.slice(1));
        // How far past this line the file had been read when the line reached the provider.
        worstReadAhead = Math.max(worstReadAhead, bytesRead - lineEnds[i]);
        part.push(line);
      }
      received.push(...part);
      index += 1;
      return providerBatch(`part-${index}`, part.length);
    },
  } as unknown as InlineBatchesCapability;
  const client = { deployment: { id: 'anthropic-1' }, batchLineModel: 'claude-upstream', batches: capability } as unknown as ProviderClient;
  const router = { sendTo: (_id: string, run: (c: ProviderClient, call: object) => Promise<unknown>, call: object = {}) => run(client, call), clientFor: () => client };
  const executor = new NativeInlineExecutor({ router, blobs, files: {} } as never);

  const started = await executor.start({
    batchId: 'batch_x',
    request: { endpoint: '/v1/chat/completions', completionWindow: '24h', metadata: null },
    file: { blobKey: 'blob_0123456789abcdef0123456789abcdef' },
    deployment: { id: 'anthropic-1' },
    client,
    call: {},
  } as never);

  assert.equal(started.providerBatchId, 'part-1,part-2,part-3');
  assert.equal(received.length, LINES);
  received.forEach((line, i) => {
    assert.equal(line.custom_id, `r${i}`);
    assert.equal(line.url, '/v1/chat/completions');
    assert.equal(line.body.model, 'claude-upstream');
  });
  // The 2 MB file was read at most a few pieces ahead of the line being sent.
  assert.ok(worstReadAhead <= 4 * PIECE, `read ${worstReadAhead} bytes ahead of the line being sent`);
});

test('results are mapped back to the client\'s custom_ids as they stream, the input read alongside, never all held', async () => {
  const { text, lineEnds } = inputFile();
  const bytes = Buffer.from(text);
  let bytesRead = 0;
  let opened = 0;
  const blobs = {
    async get() {
      opened += 1;
      bytesRead = 0;
      return streamInPieces(bytes, (read) => (bytesRead = read));
    },
  };
  // Two parts; the second answers its results in a shuffled order (neighbours swapped, one far back).
  const order = (start: number, end: number, shuffled: boolean) => {
    const indices = Array.from({ length: end - start }, (_, i) => start + i);
    if (!shuffled) return indices;
    for (let i = 0; i + 1 < indices.length; i += 2) [indices[i], indices[i + 1]] = [indices[i + 1]!, indices[i]!];
    indices.push(indices.splice(3, 1)[0]!);
    return indices;
  };
  const capability = {
    kind: 'inline',
    async *results(partId: string) {
      const indices = partId === 'part-1' ? order(0, 1000, false) : order(1000, LINES, true);
      for (const i of indices) {
        yield { customId: `r${i}`, outcome: i % 10 === 0 ? { type: 'expired' } : { type: 'succeeded', statusCode: 200, requestId: `msg_${i}`, body: { i } } };
      }
    },
  } as unknown as InlineBatchesCapability;
  const client = { deployment: { id: 'anthropic-1' }, batches: capability } as unknown as ProviderClient;
  const router = { clientFor: () => client };
  const files = { getById: async () => ({ blobKey: 'blob_0123456789abcdef0123456789abcdef' }) };
  const executor = new NativeInlineExecutor({ router, blobs, files } as never);
  const results = await executor.results({ id: 'batch_x', deploymentId: 'anthropic-1', providerBatchId: 'part-1,part-2', inputFileId: 'file-x' } as never, {} as never, {});

  let worstReadAhead = 0;
  const seen: string[] = [];
  for await (const line of results.output!) {
    const i = (line.response!.body as { i: number }).i;
    assert.equal(line.custom_id, `client-${i}`);
    // In the first part (results in input order), how far past this line the input had been read.
    if (i < 1000) worstReadAhead = Math.max(worstReadAhead, bytesRead - lineEnds[i]!);
    seen.push(line.custom_id);
  }
  assert.equal(seen.length, LINES - LINES / 10);
  assert.ok(worstReadAhead <= 4 * PIECE, `read ${worstReadAhead} bytes ahead of the result being mapped`);
  const errors: string[] = [];
  for await (const line of results.error!) errors.push(line.custom_id);
  assert.deepEqual(errors.sort(), Array.from({ length: LINES / 10 }, (_, k) => `client-${k * 10}`).sort());
  assert.ok(opened <= 4, `the input was read ${opened} times`);
});
