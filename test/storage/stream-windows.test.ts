/**
 * Issue 15: the upload and copy paths move a file's bytes in a fixed window
 * (`src/spec/stream-window.ts`), so what Portico holds of a file does not grow with the speed at
 * which bytes arrive. Measured in bytes, never in time or RSS: a source that counts what was
 * pulled from it, a sink that stops taking bytes part way (a store that stalls, a provider that
 * stops reading), and, once nothing moves any more, the difference between what was pulled and
 * what the sink took. Without backpressure the whole file would be pulled; with it, only the
 * windows of the stages in between. Then the sink resumes and the bytes must arrive whole.
 *
 * Run on the directory store and on the database store (SQLite and PostgreSQL): the database
 * store's sink is its chunk inserts (stalled through a Kysely plugin, which also counts the
 * bytes of chunk rows read), the directory's is the file (stalled in front of the store: a disk
 * cannot be paused; the store's own stages are counted against the window by the bytes on disk).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { CONFIG_DEFAULTS } from '../../src/config/load-config.ts';
import type { FilesSettings } from '../../src/config/types.ts';
import { FileService } from '../../src/managed/files/file-service.ts';
import { uploadCopy } from '../../src/managed/files/file-placement.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { buildMultipartBody } from '../../src/providers/http/multipart.ts';
import type { Router } from '../../src/routing/router.ts';
import type { Principal } from '../../src/spec/principal.ts';
import type { Deployment, FileUploadInput, ProviderClient, ProviderFile } from '../../src/spec/provider.ts';
import { STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES } from '../../src/spec/stream-window.ts';
import { LocalBlobStore, type BlobStore } from '../../src/storage/blob-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { DatabaseBlobStore } from '../../src/storage/database-blob-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const FILE_BYTES = 16 * MiB;
/** Where the sink stops taking bytes. */
const STALL_AT = 2 * MiB;
/** The database store's rows in these tests: small, so that a stall falls between rows. */
const DB_CHUNK_BYTES = 256 * KiB;
/** What one stream buffer may hold: its highWaterMark, plus the one chunk that crossed it. */
const BUFFER_BOUND = STREAM_WINDOW_BYTES + STREAM_CHUNK_BYTES;

const master: Principal = { keyId: null, isMaster: true, owner: 'master', allowedModels: null, userId: null, teamId: null };

/** Resolves once `read()` has stopped changing for a few quiet periods: nothing moves any more. */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let quiet = 0;
  while (quiet < 4) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = read();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** Waits for `condition` (polled), failing after 20 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A point where a sink stops taking bytes once `limit` were taken, until `open()`. */
class Valve {
  taken = 0;
  #limit: number;
  #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#limit = limit;
  }
  async take(bytes: number): Promise<void> {
    while (this.taken + bytes > this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.taken += bytes;
  }
  open(): void {
    this.#limit = Number.POSITIVE_INFINITY;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** JSONL batch lines, made on demand, about 1 KiB each. */
function batchLine(index: number): string {
  return `${JSON.stringify({ custom_id: `r${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'g', messages: [{ role: 'user', content: 'x'.repeat(900) }] } })}\n`;
}

/**
 * A multipart upload request body (purpose first, then the file) whose file part is whole batch
 * lines, at least `fileBytes`, made only as the reader pulls, STREAM_CHUNK_BYTES at a time: it
 * stands for the client's socket.
 */
function uploadRequest(fileBytes: number) {
  const boundary = 'streamwindowboundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  let pending = Buffer.alloc(0);
  let linesMade = 0;
  let line = 0;
  const counts = { pulled: 0, fileBytes: 0 };
  let headSent = false;
  let done = false;
  const body = new Readable({
    highWaterMark: STREAM_WINDOW_BYTES,
    read() {
      if (done) return;
      if (!headSent) {
        headSent = true;
        counts.pulled += head.length;
        this.push(head);
        return;
      }
      const lines: Buffer[] = [pending];
      let size = pending.length;
      while (size < STREAM_CHUNK_BYTES && linesMade < fileBytes) {
        const next = Buffer.from(batchLine(line++));
        lines.push(next);
        size += next.length;
        linesMade += next.length;
      }
      if (size === 0) {
        done = true;
        counts.pulled += tail.length;
        this.push(tail);
        this.push(null);
        return;
      }
      const all = Buffer.concat(lines, size);
      const piece = all.subarray(0, Math.min(STREAM_CHUNK_BYTES, all.length));
      pending = all.subarray(piece.length);
      counts.pulled += piece.length;
      counts.fileBytes += piece.length;
      this.push(piece);
    },
  });
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  return { body, headers, counts, headBytes: head.length };
}

/**
 * Watches the database store's statements: completed inserts of chunk rows wait at the valve
 * (the store awaits each insert before it takes more bytes), and the bytes of chunk rows read
 * are counted.
 */
class ChunkRowsPlugin implements KyselyPlugin {
  readonly #inserts = new Set<unknown>();
  valve: Valve | null = null;
  rowBytesRead = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node as { kind: string; into?: { table?: { identifier?: { name?: string } } } };
    if (node.kind === 'InsertQueryNode' && node.into?.table?.identifier?.name === 'blob_chunks') this.#inserts.add(args.queryId);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#inserts.delete(args.queryId)) await this.valve?.take(DB_CHUNK_BYTES);
    for (const row of args.result.rows) if (row.data instanceof Uint8Array) this.rowBytesRead += row.data.byteLength;
    return args.result;
  }
}

interface StoreUnderTest {
  store: BlobStore;
  /** Stops the store's sink after `limit` bytes; answers how many it took. */
  stallAfter(limit: number): Valve;
  /** Bytes the store's stages hold for the put at most: its own windows, not the path's. */
  putWindow: number;
  /** Bytes a reader of the store may have read from its storage beyond what it handed out. */
  getWindow: number;
  /** Bytes read from the store's storage so far. */
  storageBytesRead(): number;
  close(): Promise<void>;
}

/** The directory store, with its sink stalled in front of it (a disk cannot be paused). */
async function directoryStore(): Promise<StoreUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-stream-windows-'));
  const inner = new LocalBlobStore(dir);
  let valve: Valve | null = null;
  const readers: { bytesRead: number }[] = [];
  const store: BlobStore = {
    put(content, options) {
      const gate = valve;
      if (!gate) return inner.put(content, options);
      // The valve takes one chunk at a time; one more may wait in its buffer.
      const valved = new Transform({
        highWaterMark: 1,
        transform(chunk: Buffer, _encoding, callback) {
          gate.take(chunk.length).then(() => callback(null, chunk), callback);
        },
      });
      return inner.put(pipeline(content, valved, () => undefined), options);
    },
    async get(key) {
      const stream = await inner.get(key);
      readers.push(stream as unknown as { bytesRead: number });
      return stream;
    },
    delete: (key) => inner.delete(key),
    sweepUnfinished: (seconds) => inner.sweepUnfinished(seconds),
    listOlderThan: (seconds, limit) => inner.listOlderThan(seconds, limit),
  };
  return {
    store,
    stallAfter(limit) {
      valve = new Valve(limit);
      return valve;
    },
    // Counted by the valve in front: the store's own stages are checked by `directoryPutInFlight`.
    putWindow: 2 * BUFFER_BOUND,
    // The file's read stream (fs.ReadStream counts what it read).
    getWindow: BUFFER_BOUND,
    storageBytesRead: () => readers.reduce((sum, r) => sum + r.bytesRead, 0),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function databaseStore(database: TestDatabase): Promise<StoreUnderTest> {
  const plugin = new ChunkRowsPlugin();
  const db: Database = { ...database.db, kysely: database.db.kysely.withPlugin(plugin) };
  return {
    store: new DatabaseBlobStore(db, { chunkBytes: DB_CHUNK_BYTES }),
    stallAfter(limit) {
      plugin.valve = new Valve(limit);
      return plugin.valve;
    },
    // The hashing meter's two sides, and the one chunk buffer the rows are filled from.
    putWindow: 2 * BUFFER_BOUND + DB_CHUNK_BYTES,
    // The row being handed out, and the stream's window of its slices.
    getWindow: DB_CHUNK_BYTES + BUFFER_BOUND,
    storageBytesRead: () => plugin.rowBytesRead,
    close: async () => undefined,
  };
}

function fileService(database: Database, blobs: BlobStore): FileService {
  const settings = { ...CONFIG_DEFAULTS.files, storageDir: '/nonexistent' } as unknown as FilesSettings;
  return new FileService({
    router: {} as Router,
    files: new FileStore(database),
    blobs,
    settings,
    logger: createLogger({ level: 'silent' }),
    deletion: {} as never,
  });
}

/** A provider keeping files, whose upload reads `readBefore` bytes of the multipart body, then waits for `resume`. */
function stallingProvider(readBefore: number) {
  let resume: () => void = () => undefined;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  const counts = { consumed: 0, bodyBytes: 0, contentLength: 0 };
  const uploaded: ProviderFile[] = [];
  const client = {
    batchLineModel: 'upstream-model',
    batches: { kind: 'file' },
    files: {
      async upload(input: FileUploadInput): Promise<ProviderFile> {
        // The provider HTTP layer's own framing of the body, as the OpenAI-shaped providers send it.
        const multipart = buildMultipartBody([['purpose', input.purpose]], { field: 'file', filename: input.filename, contentType: 'application/octet-stream', content: input.content, bytes: input.bytes });
        counts.contentLength = multipart.contentLength;
        let stalled = false;
        for await (const chunk of multipart.body as AsyncIterable<Buffer>) {
          counts.consumed += chunk.length;
          if (!stalled && counts.consumed >= readBefore) {
            stalled = true;
            await resumed;
          }
        }
        counts.bodyBytes = counts.consumed;
        const file = { id: `file-${uploaded.length}`, bytes: input.bytes, filename: input.filename, purpose: 'batch', createdAt: 0 } as unknown as ProviderFile;
        uploaded.push(file);
        return file;
      },
    },
  } as unknown as ProviderClient;
  const router = {
    clientFor: () => client,
    sendTo: <T>(_id: string, operation: (client: ProviderClient, call: object) => Promise<T>) => operation(client, {}),
  } as unknown as Router;
  return { router, counts, resume, uploaded };
}

const deployment = { id: 'd1', modelGroup: 'g', providerName: 'openai', upstreamModel: 'upstream-model' } as unknown as Deployment;

const kinds: Record<string, (database: TestDatabase) => Promise<StoreUnderTest>> = {
  directory: () => directoryStore(),
  database: (database) => databaseStore(database),
};

for (const dialect of ['sqlite', 'postgres'] as const) {
  for (const [kind, make] of Object.entries(kinds)) {
    // The directory store needs a database only for the file rows: SQLite is enough.
    if (kind === 'directory' && dialect === 'postgres') continue;
    describe(`file streams move in a fixed window: ${kind} store [${dialect}]`, () => {
      let database: TestDatabase;
      let subject: StoreUnderTest;

      before(async () => {
        database = await createTestDatabase(dialect);
        subject = await make(database);
      });
      after(async () => {
        await subject?.close();
        await database?.dispose();
      });

      test('an upload whose store stops taking bytes stops reading the client: only the windows between them are read ahead', async (t) => {
        const request = uploadRequest(FILE_BYTES);
        const valve = subject.stallAfter(STALL_AT);
        const uploading = fileService(database.db, subject.store).upload(master, request.headers, request.body);
        uploading.catch(() => undefined);
        try {
          await until(() => valve.taken >= STALL_AT - DB_CHUNK_BYTES, 'the store took its first bytes');
          const pulled = await settled(() => request.counts.pulled);
          const aheadOfStore = pulled - request.headBytes - valve.taken;
          // The request stream, the multipart parser's input and its file part, the batch line
          // check's two sides: one buffer each; then the store's own stages.
          const bound = 6 * BUFFER_BOUND + subject.putWindow;
          t.diagnostic(`read ahead of the stalled store: ${(aheadOfStore / KiB).toFixed(0)} KiB (bound ${(bound / KiB).toFixed(0)} KiB, file ${FILE_BYTES / MiB} MiB)`);
          assert.ok(aheadOfStore <= bound, `Portico read ${(aheadOfStore / KiB).toFixed(0)} KiB of the client's upload beyond what its store took (bound ${(bound / KiB).toFixed(0)} KiB)`);
        } finally {
          valve.open();
        }
        const file = await uploading;
        assert.ok(request.counts.fileBytes >= FILE_BYTES);
        assert.equal(file.bytes, request.counts.fileBytes, 'the whole file was stored');
      });

      test('a copy placed on a deployment is read from the store only as fast as the provider takes it', async (t) => {
        // A stored batch file (no stall), then its copy: rewritten into a staged blob (the whole
        // file, locally), then uploaded from the staged blob to a provider that stops reading.
        subject.stallAfter(Number.POSITIVE_INFINITY);
        const stored = await subject.store.put(
          Readable.from(
            (function* () {
              for (let i = 0, made = 0; made < 4 * MiB; i += 1) {
                const line = Buffer.from(batchLine(i));
                made += line.length;
                yield line;
              }
            })(),
          ),
        );
        const provider = stallingProvider(MiB);
        const readBeforeCopy = subject.storageBytesRead();
        const copying = uploadCopy(provider.router, subject.store, { blobKey: stored.key, filename: 'input.jsonl' }, deployment);
        copying.catch(() => undefined);
        try {
          await until(() => provider.counts.consumed >= MiB, 'the provider read its first MiB');
          await settled(() => subject.storageBytesRead() + provider.counts.consumed);
          // Everything beyond the first pass over the original (stored.bytes, rewritten into
          // the staged copy) was read from the staged copy.
          const readOfStaged = subject.storageBytesRead() - readBeforeCopy - stored.bytes;
          const aheadOfProvider = readOfStaged - provider.counts.consumed;
          // The store's reader, then the multipart framing's stream and the chunk its frame holds.
          const bound = subject.getWindow + BUFFER_BOUND + STREAM_CHUNK_BYTES;
          t.diagnostic(`read ahead of the stalled provider: ${(aheadOfProvider / KiB).toFixed(0)} KiB (bound ${(bound / KiB).toFixed(0)} KiB)`);
          assert.ok(aheadOfProvider <= bound, `Portico read ${(aheadOfProvider / KiB).toFixed(0)} KiB of the copy beyond what the provider took (bound ${(bound / KiB).toFixed(0)} KiB)`);
        } finally {
          provider.resume();
        }
        const placed = await copying;
        assert.equal(placed.providerFile.id, 'file-0');
        assert.equal(provider.counts.bodyBytes, provider.counts.contentLength, 'the provider got the whole copy');
      });
    });
  }
}

test('the directory store holds at most its windows between the source and the disk', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-stream-windows-disk-'));
  try {
    const store = new LocalBlobStore(dir);
    let pulled = 0;
    let mostAhead = 0;
    const onDisk = async (): Promise<number> => {
      const names = (await readdir(dir)).filter((name) => name.startsWith('.tmp-'));
      return names.length === 0 ? 0 : (await stat(join(dir, names[0]))).size;
    };
    const source = new Readable({
      highWaterMark: STREAM_WINDOW_BYTES,
      read() {
        // Each pull first checks what is on disk: what was pulled and not yet written is in Portico.
        void onDisk().then((written) => {
          mostAhead = Math.max(mostAhead, pulled - written);
          if (pulled >= FILE_BYTES) return void this.push(null);
          pulled += STREAM_CHUNK_BYTES;
          this.push(Buffer.alloc(STREAM_CHUNK_BYTES, 120));
        });
      },
    });
    const blob = await store.put(source);
    assert.equal(blob.bytes, FILE_BYTES);
    // The source's buffer, the meter's two sides, the file's write buffer and the write in progress.
    const bound = 4 * BUFFER_BOUND + STREAM_CHUNK_BYTES;
    t.diagnostic(`most bytes between the source and the disk: ${(mostAhead / KiB).toFixed(0)} KiB (bound ${(bound / KiB).toFixed(0)} KiB)`);
    assert.ok(mostAhead <= bound, `${(mostAhead / KiB).toFixed(0)} KiB were pulled and not yet on disk (bound ${(bound / KiB).toFixed(0)} KiB)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
