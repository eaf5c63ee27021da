/**
 * A `BlobStore` that keeps file bytes in the database. Why: with `LocalBlobStore`, every
 * instance must mount one shared directory; with this store, instances share only PostgreSQL
 * (and Redis), which they need anyway, and no shared volume.
 *
 * How: a blob is one `blobs` row (its length, sha256 and when it was completed) and its bytes
 * cut into `blob_chunks` rows of `chunkBytes` each (the last one shorter), numbered 0, 1, ...
 * (migration 0005).
 * - `put` streams the source through the hashing meter and copies it into one chunk buffer,
 *   allocated once per put and reused for every row: the next bytes are taken from the source
 *   only after the row is inserted, so a put holds one chunk (plus the meter's window,
 *   `spec/stream-window.ts`) whatever the size or the speed, and leaves no chunk-sized garbage
 *   per row. Each insert is its own short statement: an
 *   upload from a slow client holds no connection (nor the SQLite writer) between its chunks,
 *   and no transaction stays open for minutes. The row is marked complete only at the end;
 *   readers see no unfinished blob. On failure (the source's, the size limit's, the database's)
 *   the row and its chunks are deleted; after a crash, `sweepUnfinished` deletes them.
 * - `get` reads the chunks one row at a time (keyset on `seq`), holding no connection
 *   between rows and reading the next row only once the consumer has taken the previous one
 *   (handed out in slices of the stream window): a reader holds one chunk. The
 *   bytes read are checked against the row's length at the end, so a blob deleted mid-read
 *   ends the stream with an error instead of a silently truncated file.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import { BlobNotFoundError, HashingMeter, isBlobKey, newBlobKey, type BlobPutOptions, type BlobStore, type StoredBlob } from './blob-store.ts';
import type { Database } from './database.ts';
import { bytesMoved } from './collection-pacing.ts';
import { unixSeconds } from './row-mapping.ts';
import { STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES } from '../spec/stream-window.ts';
import type { DatabaseSchema } from './schema.ts';

const MiB = 1024 * 1024;
const DEFAULT_CHUNK_BYTES = MiB;
/** Chunk rows fetched per query by a reader: one, so a reader holds one chunk. */
const CHUNKS_PER_PAGE = 1;

export interface DatabaseBlobStoreOptions {
  /** Size of each stored chunk (the last one of a blob is shorter). Default 1 MiB. */
  chunkBytes?: number;
}

export class DatabaseBlobStore implements BlobStore {
  readonly #db: Database;
  readonly #chunkBytes: number;

  constructor(db: Database, options: DatabaseBlobStoreOptions = {}) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError('chunkBytes must be a positive integer.');
    this.#db = db;
    this.#chunkBytes = chunkBytes;
  }

  async put(content: Readable, options: BlobPutOptions = {}): Promise<StoredBlob> {
    const key = newBlobKey();
    const meter = new HashingMeter(options.maxBytes);
    const chunkBytes = this.#chunkBytes;
    const db = this.#db.kysely;
    let started = false;
    try {
      await db.insertInto('blobs').values({ key, bytes: 0, sha256: '', created_at: unixSeconds(), completed_at: null }).execute();
      started = true;
      let seq = 0;
      // One buffer for every row of this put: each insert completes (the driver has copied or
      // sent the bytes) before the buffer is filled again.
      let chunk: Buffer | undefined;
      let filled = 0;
      const writeChunk = async (): Promise<void> => {
        await db.insertInto('blob_chunks').values({ blob_key: key, seq, data: chunk!.subarray(0, filled) }).execute();
        seq += 1;
        filled = 0;
      };
      // pipeline settles only after this sink has, so no insert is still running afterwards;
      // on failure it destroys the source.
      await pipeline(content, meter, async (source: AsyncIterable<Buffer>) => {
        for await (const piece of source) {
          let offset = 0;
          while (offset < piece.length) {
            // Allocated on the first bytes: an empty blob allocates none.
            chunk ??= Buffer.allocUnsafeSlow(chunkBytes);
            const take = piece.copy(chunk, filled, offset, Math.min(piece.length, offset + chunkBytes - filled));
            filled += take;
            offset += take;
            if (filled === chunkBytes) await writeChunk();
          }
        }
        if (filled > 0) await writeChunk();
      });
      const stored = { key, bytes: meter.bytes, sha256: meter.digest() };
      await db.updateTable('blobs').set({ bytes: stored.bytes, sha256: stored.sha256, completed_at: unixSeconds() }).where('key', '=', key).execute();
      return stored;
    } catch (error) {
      // The insert may have failed before the pipeline took the source.
      content.destroy();
      // Nothing is kept. If even this fails (the database is away), the row stays unfinished,
      // invisible to readers, and `sweepUnfinished` removes it later.
      if (started) await db.deleteFrom('blobs').where('key', '=', key).execute().catch(() => undefined);
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    checkKey(key);
    const row = await this.#db.kysely.selectFrom('blobs').select('bytes').where('key', '=', key).where('completed_at', 'is not', null).executeTakeFirst();
    if (row === undefined) throw new BlobNotFoundError(key);
    // Not object mode: the highWaterMark counts bytes, so the reader stops pulling rows once a
    // window's slice waits unread.
    return Readable.from(readChunks(this.#db.kysely, key, Number(row.bytes)), { objectMode: false, highWaterMark: STREAM_WINDOW_BYTES });
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    // The chunks go with the row (ON DELETE CASCADE; SQLite connections enable foreign keys).
    await this.#db.kysely.deleteFrom('blobs').where('key', '=', key).execute();
  }

  async sweepUnfinished(olderThanSeconds: number, now: number = unixSeconds()): Promise<number> {
    const result = await this.#db.kysely
      .deleteFrom('blobs')
      .where('completed_at', 'is', null)
      .where('created_at', '<', now - olderThanSeconds)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listOlderThan(olderThanSeconds: number, limit: number, now: number = unixSeconds()): Promise<string[]> {
    const rows = await this.#db.kysely
      .selectFrom('blobs')
      .select('key')
      .where('completed_at', 'is not', null)
      .where('completed_at', '<=', now - olderThanSeconds)
      .orderBy('key')
      .limit(limit)
      .execute();
    return rows.map((row) => row.key);
  }
}

async function* readChunks(db: Kysely<DatabaseSchema>, key: string, expectedBytes: number): AsyncGenerator<Buffer> {
  let after = -1;
  let readBytes = 0;
  for (;;) {
    const rows = await db
      .selectFrom('blob_chunks')
      .select(['seq', 'data'])
      .where('blob_key', '=', key)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(CHUNKS_PER_PAGE)
      .execute();
    for (const row of rows) {
      const data = toBuffer(row.data);
      readBytes += data.length;
      bytesMoved(data.length);
      // Slices of the row (no copy): the stream's window counts them like any other chunk.
      for (let offset = 0; offset < data.length; offset += STREAM_CHUNK_BYTES) yield data.subarray(offset, offset + STREAM_CHUNK_BYTES);
    }
    if (rows.length < CHUNKS_PER_PAGE) break;
    after = Number(rows[rows.length - 1].seq);
  }
  // Chunks vanish only with their blob (deleted while being read): never end as if complete.
  if (readBytes !== expectedBytes) throw new BlobNotFoundError(key);
}

/** node:sqlite reads a BLOB as a Uint8Array; consumers of a blob stream expect Buffers. */
function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function checkKey(key: string): void {
  if (!isBlobKey(key)) throw new TypeError('Invalid blob key.');
}
