import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { sql } from 'kysely';
import { PayloadTooLargeError } from '../../src/spec/errors.ts';
import { BlobNotFoundError } from '../../src/storage/blob-store.ts';
import { DatabaseBlobStore } from '../../src/storage/database-blob-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { generatedStream } from './generated-stream.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;


async function readAll(stream: Readable): Promise<{ sha256: string; bytes: number; pieces: number; allBuffers: boolean }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let pieces = 0;
  let allBuffers = true;
  for await (const piece of stream) {
    allBuffers &&= Buffer.isBuffer(piece);
    hash.update(piece as Buffer);
    bytes += (piece as Buffer).length;
    pieces += 1;
  }
  return { sha256: hash.digest('hex'), bytes, pieces, allBuffers };
}

forEachDatabase('database blob store', (ctx) => {
  const rowCounts = async () => {
    const blobs = await ctx.db.kysely.selectFrom('blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const chunks = await ctx.db.kysely.selectFrom('blob_chunks').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { blobs: Number(blobs.n), chunks: Number(chunks.n) };
  };
  const chunkRowsOf = async (key: string) =>
    ctx.db.kysely.selectFrom('blob_chunks').select(['seq']).where('blob_key', '=', key).orderBy('seq').execute();

  test('a multi-chunk stream is stored in chunks and reads back identical, with its length and sha256', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    // Not a multiple of the chunk size, and pieces larger than a chunk: chunks are cut across pieces.
    const size = 2 * MiB + 1000;
    const source = generatedStream(size, { pieceBytes: 100 * KiB });
    const stored = await store.put(source.stream);
    assert.match(stored.key, /^blob_[0-9a-f]{32}$/);
    assert.equal(stored.bytes, size);
    assert.equal(stored.sha256, source.sha256());

    const chunks = await chunkRowsOf(stored.key);
    assert.deepEqual(
      chunks.map((c) => Number(c.seq)),
      Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => i),
    );
    const row = await ctx.db.kysely.selectFrom('blobs').selectAll().where('key', '=', stored.key).executeTakeFirstOrThrow();
    assert.equal(Number(row.bytes), size);
    assert.equal(row.sha256, stored.sha256);

    const readBack = await readAll(await store.get(stored.key));
    assert.deepEqual(readBack, { sha256: stored.sha256, bytes: size, pieces: chunks.length, allBuffers: true });
    await store.delete(stored.key);
  });

  test('exact small content survives the round trip byte for byte', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: 5 });
    const text = '{"a":1}\n{"b":2}\n\u00e9\u0000\u00ff';
    const stored = await store.put(Readable.from([Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))]));
    assert.equal(stored.bytes, Buffer.byteLength(text));
    assert.equal(stored.sha256, createHash('sha256').update(text).digest('hex'));
    const read = Buffer.concat(await (await store.get(stored.key)).toArray());
    assert.equal(read.toString(), text);
    await store.delete(stored.key);
  });

  test('an empty stream is a 0-byte blob without chunks', async () => {
    const store = new DatabaseBlobStore(ctx.db);
    const stored = await store.put(Readable.from([]));
    assert.equal(stored.bytes, 0);
    assert.equal(stored.sha256, createHash('sha256').digest('hex'));
    assert.deepEqual(await chunkRowsOf(stored.key), []);
    assert.deepEqual(await (await store.get(stored.key)).toArray(), []);
    await store.delete(stored.key);
  });

  test('a stream over maxBytes fails with PayloadTooLargeError, is destroyed, and leaves no rows', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    const before = await rowCounts();
    const source = generatedStream(3 * MiB);
    await assert.rejects(store.put(source.stream, { maxBytes: MiB }), (error: unknown) => {
      return error instanceof PayloadTooLargeError && error.httpStatus === 413;
    });
    assert.equal(source.stream.destroyed, true);
    assert.ok(source.sent() < 3 * MiB, 'the source was not read to its end');
    assert.deepEqual(await rowCounts(), before);

    const exact = await store.put(generatedStream(MiB).stream, { maxBytes: MiB });
    assert.equal(exact.bytes, MiB, 'exactly maxBytes is allowed');
    await store.delete(exact.key);
  });

  test('a source failing midway rejects with its error and leaves no rows', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    const before = await rowCounts();
    await assert.rejects(store.put(generatedStream(3 * MiB, { failAfter: MiB }).stream), /client went away/);
    assert.deepEqual(await rowCounts(), before);
  });

  test('a database failure midway deletes what was written, destroys the source and rejects with the database error', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    const before = await rowCounts();
    // A real failure of the fourth chunk insert: a trigger refusing it.
    if (ctx.dialect === 'postgres') {
      await sql`create function refuse_chunk() returns trigger language plpgsql as $$ begin raise exception 'chunk refused'; end $$`.execute(ctx.db.kysely);
      await sql`create trigger refuse_chunk before insert on blob_chunks for each row when (new.seq = 3) execute function refuse_chunk()`.execute(ctx.db.kysely);
    } else {
      await sql`create trigger refuse_chunk before insert on blob_chunks when new.seq = 3 begin select raise(abort, 'chunk refused'); end`.execute(ctx.db.kysely);
    }
    try {
      const source = generatedStream(3 * MiB);
      await assert.rejects(store.put(source.stream), /chunk refused/);
      assert.equal(source.stream.destroyed, true);
      assert.ok(source.sent() < 3 * MiB, 'the source was not read to its end');
      assert.deepEqual(await rowCounts(), before);
    } finally {
      await sql`drop trigger refuse_chunk${sql.raw(ctx.dialect === 'postgres' ? ' on blob_chunks' : '')}`.execute(ctx.db.kysely);
      if (ctx.dialect === 'postgres') await sql`drop function refuse_chunk()`.execute(ctx.db.kysely);
    }
  });

  test('an upload still being written is invisible to readers, and holds no transaction open', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Two chunks, then a pause until the test has looked.
    async function* slow() {
      yield Buffer.alloc(CHUNK, 1);
      yield Buffer.alloc(CHUNK, 2);
      await gate;
      yield Buffer.alloc(10, 3);
    }
    const putting = store.put(Readable.from(slow()));
    let pending: { key: string } | undefined;
    for (let i = 0; i < 200 && !pending; i++) {
      pending = await ctx.db.kysely.selectFrom('blobs').select('key').where('completed_at', 'is', null).executeTakeFirst();
      if (!pending || (await chunkRowsOf(pending.key)).length < 2) {
        pending = undefined;
        await sleep(5);
      }
    }
    assert.ok(pending, 'the first chunks are in the table while the upload goes on');
    await assert.rejects(store.get(pending.key), BlobNotFoundError);
    // Another connection sees the chunks: they were committed one by one, not held in a transaction.
    const other = await ctx.openAnother({ migrate: false });
    try {
      const seen = await other.kysely.selectFrom('blob_chunks').select('seq').where('blob_key', '=', pending.key).execute();
      assert.equal(seen.length, 2);
    } finally {
      await other.close();
    }
    release();
    const stored = await putting;
    assert.equal(stored.key, pending.key);
    assert.equal((await readAll(await store.get(stored.key))).bytes, 2 * CHUNK + 10);
  });

  test('sweepUnfinished removes only blobs left unfinished for longer than asked', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    const done = await store.put(generatedStream(2 * CHUNK).stream);
    const now = 1_900_000_000;
    const unfinished = (key: string, createdAt: number) =>
      ctx.db.kysely.insertInto('blobs').values({ key, bytes: 0, sha256: '', created_at: createdAt, completed_at: null }).execute();
    const oldKey = `blob_${'a'.repeat(32)}`;
    const youngKey = `blob_${'b'.repeat(32)}`;
    await unfinished(oldKey, now - 7200);
    await ctx.db.kysely.insertInto('blob_chunks').values({ blob_key: oldKey, seq: 0, data: Buffer.from('left over') }).execute();
    await unfinished(youngKey, now - 60);
    assert.equal(await store.sweepUnfinished(3600, now), 1);
    assert.deepEqual(await chunkRowsOf(oldKey), [], 'its chunks went with it');
    const keys = (await ctx.db.kysely.selectFrom('blobs').select('key').execute()).map((row) => row.key);
    assert.ok(keys.includes(youngKey) && keys.includes(done.key) && !keys.includes(oldKey));
    await store.delete(youngKey);
    await store.delete(done.key);
  });

  test('a put on a closed database rejects and destroys the source', async () => {
    const closed = await ctx.openAnother();
    await closed.close();
    const source = generatedStream(MiB);
    await assert.rejects(new DatabaseBlobStore(closed).put(source.stream));
    assert.equal(source.stream.destroyed, true);
  });

  test('a missing blob is BlobNotFoundError on read; deleting it is fine; delete removes its chunks', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    await assert.rejects(store.get(`blob_${'0'.repeat(32)}`), BlobNotFoundError);
    await store.delete(`blob_${'0'.repeat(32)}`);

    const stored = await store.put(generatedStream(300 * KiB).stream);
    assert.equal((await chunkRowsOf(stored.key)).length, 5);
    await store.delete(stored.key);
    await assert.rejects(store.get(stored.key), BlobNotFoundError);
    assert.deepEqual(await chunkRowsOf(stored.key), []);
    await store.delete(stored.key);
  });

  test('keys not made by a blob store are refused', async () => {
    const store = new DatabaseBlobStore(ctx.db);
    for (const key of ['../../etc/passwd', 'blob_../../x', '', 'BLOB_0123', `blob_${'0'.repeat(31)}/`, `blob_${'A'.repeat(32)}`]) {
      await assert.rejects(store.get(key), TypeError, key);
      await assert.rejects(store.delete(key), TypeError, key);
    }
  });

  test('the reader pulls pages only as it is consumed, and a slow reader still gets everything', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: 16 * KiB });
    const size = 40 * 16 * KiB + 7;
    const source = generatedStream(size);
    const stored = await store.put(source.stream);
    const stream = await store.get(stored.key);

    // Nobody reads: after a while, only about a page sits in the stream, not the whole blob.
    stream.pause();
    await sleep(100);
    assert.equal(stream.readableObjectMode, false, 'a byte stream, so readableLength counts bytes');
    assert.ok(stream.readableLength <= 5 * 16 * KiB, `buffered ${stream.readableLength} bytes unread`);

    const hash = createHash('sha256');
    let bytes = 0;
    for await (const piece of stream) {
      hash.update(piece as Buffer);
      bytes += (piece as Buffer).length;
      await sleep(1);
    }
    assert.deepEqual({ bytes, sha256: hash.digest('hex') }, { bytes: size, sha256: stored.sha256 });
    await store.delete(stored.key);
  });

  test('a blob deleted while being read ends the stream with an error, not a short file', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: 16 * KiB });
    const stored = await store.put(generatedStream(40 * 16 * KiB).stream);
    const stream = await store.get(stored.key);
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);
    await store.delete(stored.key);
    await assert.rejects(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next());
      })(),
      BlobNotFoundError,
    );
  });

  test('another instance on the same database reads what one stored', async () => {
    const store = new DatabaseBlobStore(ctx.db, { chunkBytes: CHUNK });
    const other = new DatabaseBlobStore(await ctx.openAnother(), { chunkBytes: CHUNK });
    const source = generatedStream(MiB + 3);
    const stored = await store.put(source.stream);
    assert.deepEqual(await readAll(await other.get(stored.key)), { sha256: source.sha256(), bytes: MiB + 3, pieces: 17, allBuffers: true });
    await other.delete(stored.key);
    await assert.rejects(store.get(stored.key), BlobNotFoundError);
  });
});
