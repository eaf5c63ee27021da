/**
 * The staged executor: the provider stages the lines it is handed as a stream (read from the
 * blob store as it consumes them, never whole), each part becomes a provider batch, a failed
 * create undoes the rest, and results come back under the client's ids. The blob store and the
 * provider are stand-ins recording what they were given.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { inProgressProviderBatch } from '../../../../test/helpers/provider-batches.ts';
import { InvalidRequestError } from '../../../spec/errors.ts';
import type { BatchInputLine, BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { BatchLineSource, ProviderBatch, ProviderClient, StagedBatchPart, StagedBatchesCapability } from '../../../spec/provider.ts';
import { BatchSynchronizer } from '../batch-sync.ts';
import { NativeStagedExecutor } from './native-staged.ts';

const LINES = 1500;
const PIECE = 16 * 1024;
const BLOB_KEY = 'blob_0123456789abcdef0123456789abcdef';

function inputFile(): { bytes: Buffer; lineEnds: number[] } {
  const lineEnds: number[] = [];
  let text = '';
  for (let i = 0; i < LINES; i += 1) {
    text += `${JSON.stringify({ custom_id: `client-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'group', messages: [{ role: 'user', content: `${i} ${'x'.repeat(900)}` }] } })}\n`;
    lineEnds.push(Buffer.byteLength(text));
  }
  return { bytes: Buffer.from(text), lineEnds };
}

/** A blob store serving the file in pieces, telling how far it has been read. */
function blobStore(bytes: Buffer) {
  const store = {
    bytesRead: 0,
    opened: 0,
    async get() {
      store.opened += 1;
      store.bytesRead = 0;
      return Readable.from(
        (function* () {
          for (let offset = 0; offset < bytes.length; offset += PIECE) {
            const piece = bytes.subarray(offset, offset + PIECE);
            store.bytesRead = offset + piece.length;
            yield piece;
          }
        })(),
        { objectMode: false },
      );
    },
  };
  return store;
}

function batch(id: string, total: number): ProviderBatch {
  return inProgressProviderBatch(id, { createdAt: 1, inProgressAt: 1, requestCounts: { total, completed: 0, failed: 0 } });
}

/** A provider staging parts of 600 lines "in its bucket", recording everything it is asked. */
function stagingProvider(store: ReturnType<typeof blobStore>, lineEnds: number[], options: { failCreateOf?: number } = {}) {
  const log = { staged: [] as BatchInputLine[], created: [] as string[], createdLines: [] as number[], cancelled: [] as string[], discarded: [] as string[], worstReadAhead: 0 };
  const capability: StagedBatchesCapability = {
    kind: 'staged',
    async stage(lines: BatchLineSource, context) {
      assert.deepEqual(context, { batchId: 'batch_x', endpoint: '/v1/chat/completions', completionWindow: '24h' });
      const parts: StagedBatchPart[] = [];
      let index = 0;
      for await (const line of lines()) {
        // How far past this line the file had been read when the line reached the provider.
        log.worstReadAhead = Math.max(log.worstReadAhead, store.bytesRead - lineEnds[index]!);
        log.staged.push(line);
        if (index % 600 === 0) parts.push({ location: `gs://bucket/batch_x-${parts.length}.jsonl`, start: index, end: index + 1 });
        else parts[parts.length - 1] = { ...parts[parts.length - 1]!, end: index + 1 };
        index += 1;
      }
      return parts.map((part, i) => (i === 0 ? { ...part, warnings: [{ param: 'temperature', message: 'clamped (3 lines)' }] } : part));
    },
    async create(part, input) {
      if (options.failCreateOf === part.start) throw new InvalidRequestError('quota exceeded for batch jobs');
      let count = 0;
      for await (const _line of input.lines()) count += 1;
      log.createdLines.push(count);
      log.created.push(part.location);
      return batch(`projects/p/batchPredictionJobs/${part.start}`, part.end - part.start);
    },
    async retrieve(id) {
      return batch(id, 0);
    },
    async cancel(id) {
      log.cancelled.push(id);
      return batch(id, 0);
    },
    async *results(id): AsyncGenerator<BatchOutputLine> {
      const start = Number(id.slice(id.lastIndexOf('/') + 1));
      const end = Math.min(start + 600, LINES);
      // Out of order within a part, as cloud batch outputs are.
      for (let i = end - 1; i >= start; i -= 1) {
        yield i % 7 === 0
          ? { id: 'provider-line', custom_id: `r${i}`, response: { status_code: 429, request_id: '', body: { error: { message: 'quota' } } }, error: null }
          : { id: 'provider-line', custom_id: `r${i}`, response: { status_code: 200, request_id: `req-${i}`, body: { i } }, error: null };
      }
    },
    async discard(part) {
      log.discarded.push(part.location);
    },
  };
  const client = { deployment: { id: 'vertex-1' }, batchLineModel: 'gemini-2.5-flash', batches: capability } as unknown as ProviderClient;
  const router = { sendTo: (_id: string, run: (c: ProviderClient, call: object) => Promise<unknown>, call: object = {}) => run(client, call), clientFor: () => client };
  return { log, client, router };
}

const startInput = (client: ProviderClient) =>
  ({
    batchId: 'batch_x',
    request: { endpoint: '/v1/chat/completions', completionWindow: '24h', metadata: null },
    file: { blobKey: BLOB_KEY },
    deployment: { id: 'vertex-1', batchMode: 'native' },
    client,
    call: {},
  }) as never;

describe('native staged executor', () => {
  it('the provider stages the lines as they stream from the store, placed on the deployment; one batch per part', async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const { log, client, router } = stagingProvider(store, lineEnds);
    const executor = new NativeStagedExecutor({ router, blobs: store, files: {} } as never);
    assert.equal(executor.handles({ batchMode: 'native' } as never, client), true);
    assert.equal(executor.handles({ batchMode: 'emulate' } as never, client), false);
    // Under the provider's fewest requests per batch, the engine runs it instead.
    const withMinimum = { ...client, batches: { ...client.batches!, minRequestsPerBatch: 100 } } as ProviderClient;
    assert.equal(executor.handles({ batchMode: 'native' } as never, withMinimum, { lineCount: 99 }), false);
    assert.equal(executor.handles({ batchMode: 'native' } as never, withMinimum, { lineCount: 100 }), true);

    const started = await executor.start(startInput(client));
    assert.equal(started.providerBatchId, 'projects/p/batchPredictionJobs/0,projects/p/batchPredictionJobs/600,projects/p/batchPredictionJobs/1200');
    assert.deepEqual(started.progress?.requestCounts, { total: LINES, completed: 0, failed: 0 });
    assert.deepEqual(started.warnings, [{ param: 'temperature', message: 'clamped (3 lines)' }]);
    assert.equal(log.staged.length, LINES);
    log.staged.forEach((line, i) => {
      assert.equal(line.custom_id, `r${i}`);
      assert.equal(line.body.model, 'gemini-2.5-flash');
    });
    assert.deepEqual(log.createdLines, [600, 600, 300], "each create is handed its own part's lines");
    // The ~1.4 MB file was read at most a few pieces ahead of the line being staged.
    assert.ok(log.worstReadAhead <= 4 * PIECE, `read ${log.worstReadAhead} bytes ahead of the line being staged`);
  });

  it('a create that fails cancels the batches already created and discards the parts not created', async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const { log, client, router } = stagingProvider(store, lineEnds, { failCreateOf: 1200 });
    const executor = new NativeStagedExecutor({ router, blobs: store, files: {} } as never);
    await assert.rejects(executor.start(startInput(client)), /quota exceeded/);
    assert.deepEqual(log.cancelled, ['projects/p/batchPredictionJobs/0', 'projects/p/batchPredictionJobs/600']);
    assert.deepEqual(log.discarded, ['gs://bucket/batch_x-2.jsonl']);
  });

  it("results are mapped back to the client's ids, 2xx to the output file and the rest to the error file, with Portico's line ids", async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const { router } = stagingProvider(store, lineEnds);
    const files = { getById: async () => ({ blobKey: BLOB_KEY }) };
    const executor = new NativeStagedExecutor({ router, blobs: store, files } as never);
    const record = { id: 'batch_x', deploymentId: 'vertex-1', providerBatchId: 'projects/p/batchPredictionJobs/0,projects/p/batchPredictionJobs/600,projects/p/batchPredictionJobs/1200', inputFileId: 'file-x' };
    const results = await executor.results(record as never, {} as never, {});
    const output: BatchOutputLine[] = [];
    for await (const line of results.output!) output.push(line as BatchOutputLine);
    const errors: BatchOutputLine[] = [];
    for await (const line of results.error!) errors.push(line as BatchOutputLine);
    assert.equal(output.length + errors.length, LINES);
    for (const line of output) {
      assert.equal(line.custom_id, `client-${(line.response!.body as { i: number }).i}`);
      assert.match(line.id, /^batch_req_/);
    }
    assert.deepEqual(errors.map((line) => line.custom_id).sort(), Array.from({ length: Math.ceil(LINES / 7) }, (_, k) => `client-${k * 7}`).sort());
    assert.equal(errors[0]!.response!.status_code, 429);
  });

  /**
   * Parts 0 and 600 ran, the second stopped (cancelled or expired) after its first 100 lines; the
   * third was still waiting for its create (a queued id). The provider answers only the lines that
   * ran, as Gemini, Vertex AI and Bedrock do: the executor answers the others.
   */
  function partlyRunProvider(store: ReturnType<typeof blobStore>, lineEnds: number[]) {
    const { client, router } = stagingProvider(store, lineEnds);
    const staged = client.batches as StagedBatchesCapability;
    const partly: StagedBatchesCapability = {
      ...staged,
      async *results(id: string) {
        if (id.startsWith('queued-')) return;
        for await (const line of staged.results(id, {})) if (!id.endsWith('/600') || Number(line.custom_id.slice(1)) < 700) yield line;
      },
    };
    const partlyClient = { ...client, batches: partly } as ProviderClient;
    return { ...router, clientFor: () => partlyClient };
  }

  async function resultsOf(executor: NativeStagedExecutor, record: object, status: string): Promise<{ output: BatchOutputLine[]; errors: BatchOutputLine[] }> {
    const results = await executor.results(record as never, { status } as never, {});
    const output: BatchOutputLine[] = [];
    for await (const line of results.output!) output.push(line as BatchOutputLine);
    const errors: BatchOutputLine[] = [];
    for await (const line of results.error!) errors.push(line as BatchOutputLine);
    return { output, errors };
  }

  const PARTLY_RUN = { id: 'batch_x', deploymentId: 'vertex-1', providerBatchId: 'projects/p/batchPredictionJobs/0,projects/p/batchPredictionJobs/600,queued-1-abc', inputFileId: 'file-x', createdAt: 1, expiresAt: 86_401 };
  const NEVER_RAN = [...Array.from({ length: 500 }, (_, k) => 700 + k), ...Array.from({ length: 300 }, (_, k) => 1200 + k)];

  it('a cancelled or expired batch answers every line: those no part answered (a part never created, lines a stopped part never ran) end cancelled or expired, under their client ids', async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const router = partlyRunProvider(store, lineEnds);
    const files = { getById: async () => ({ blobKey: BLOB_KEY, lineCount: LINES }) };
    for (const status of ['cancelled', 'expired', 'completed'] as const) {
      const executor = new NativeStagedExecutor({ router, blobs: store, files } as never);
      const { output, errors } = await resultsOf(executor, PARTLY_RUN, status);
      const filled = errors.filter((line) => line.error !== null);
      if (status === 'completed') {
        assert.equal(filled.length, 0, 'a completed batch is not filled in');
        continue;
      }
      assert.equal(output.length + errors.length, LINES, `${status}: every line once`);
      assert.deepEqual(filled.map((line) => line.custom_id), NEVER_RAN.map((i) => `client-${i}`));
      for (const line of filled) {
        assert.equal(line.error!.code, status === 'cancelled' ? 'batch_cancelled' : 'batch_expired');
        assert.equal(line.response, null);
        assert.match(line.id, /^batch_req_/);
      }
    }
  });

  it('with its input file deleted while it ran, a cancelled batch still answers every line, under the surrogates the provider knew', async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const router = partlyRunProvider(store, lineEnds);
    // A deleted file's tombstone: no content, its line count kept.
    const files = { getById: async () => ({ blobKey: null, lineCount: LINES }) };
    const executor = new NativeStagedExecutor({ router, blobs: store, files } as never);
    const { output, errors } = await resultsOf(executor, PARTLY_RUN, 'cancelled');
    assert.equal(output.length + errors.length, LINES);
    const filled = errors.filter((line) => line.error !== null);
    assert.deepEqual(filled.map((line) => line.custom_id), NEVER_RAN.map((i) => `r${i}`));
    assert.ok(filled.every((line) => line.error!.code === 'batch_cancelled'));
    assert.equal(store.opened, 0, 'the store is not read for a file that is gone');
  });

  it("each part is handed the batch's expires_at and what it keeps; what the parts answer to keep is written only when it changed", async () => {
    const { bytes, lineEnds } = inputFile();
    const store = blobStore(bytes);
    const { client, router } = stagingProvider(store, lineEnds);
    const staged = client.batches as StagedBatchesCapability;
    const seen: unknown[] = [];
    const keeping: StagedBatchesCapability = {
      ...staged,
      async retrieve(id, _call, part) {
        seen.push([id, part]);
        // The queued part answers a new state; the others say nothing about theirs.
        return { ...batch(id, 0), ...(id.startsWith('queued-') && { partState: `${part?.state ?? 'none'}+1` }) };
      },
    };
    const keepingClient = { ...client, batches: keeping } as ProviderClient;
    const writes: unknown[] = [];
    const batches = { update: async (id: string, patch: object) => void writes.push([id, patch]) };
    const executor = new NativeStagedExecutor({ router: { ...router, sendTo: (_id: string, run: (c: ProviderClient, call: object) => Promise<unknown>) => run(keepingClient, {}) }, blobs: store, files: {}, batches } as never);
    await executor.refresh({ ...PARTLY_RUN, partStates: [null, null, 's0'] } as never, {});
    assert.deepEqual(seen, [
      ['projects/p/batchPredictionJobs/0', { expiresAt: 86_401, state: null }],
      ['projects/p/batchPredictionJobs/600', { expiresAt: 86_401, state: null }],
      ['queued-1-abc', { expiresAt: 86_401, state: 's0' }],
    ]);
    assert.deepEqual(writes, [['batch_x', { partStates: [null, null, 's0+1'] }]]);
    // A row kept before part states existed (none kept), and a look that changes nothing.
    seen.length = 0;
    writes.length = 0;
    const unchanged: StagedBatchesCapability = { ...keeping, retrieve: async (id) => batch(id, 0) };
    const quiet = new NativeStagedExecutor({ router: { ...router, sendTo: (_id: string, run: (c: ProviderClient, call: object) => Promise<unknown>) => run({ ...client, batches: unchanged } as ProviderClient, {}) }, blobs: store, files: {}, batches } as never);
    await quiet.refresh({ ...PARTLY_RUN, partStates: null } as never, {});
    assert.deepEqual(writes, []);
  });

  it('batches stored as native_inline before their providers moved to staged batches are followed by this executor', () => {
    const staged = new NativeStagedExecutor({} as never);
    const sync = new BatchSynchronizer({ executors: [staged] } as never);
    assert.equal(sync.executorFor({ execution: 'native_inline' }), staged);
    assert.equal(sync.executorFor({ execution: 'native_staged' }), staged);
    assert.throws(() => sync.executorFor({ execution: 'native_file' }), /no executor/);
  });
});
