/**
 * Where the gateway keeps file bytes. `LocalBlobStore` writes to a directory: bytes are streamed
 * to a temporary file beside the final one while their sha256 and length are computed, so
 * memory stays flat whatever the size; the temporary file is renamed into place only when the
 * whole stream arrived, and removed on any failure.
 *
 * Keys are random and generated here, never taken from a user, and `get`/`delete` refuse any
 * key not of that form: no path can be smuggled in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLargeError } from '../spec/errors.ts';
import { STREAM_CHUNK_BYTES, STREAM_WINDOW_BYTES } from '../spec/stream-window.ts';
import { bytesMoved } from './collection-pacing.ts';

export interface StoredBlob {
  key: string;
  bytes: number;
  /** Hex sha256 of the bytes. */
  sha256: string;
}

export interface BlobPutOptions {
  /** Fail with PayloadTooLargeError (and keep nothing) once the stream exceeds this many bytes. */
  maxBytes?: number;
}

export interface BlobStore {
  /** Stores the stream's bytes under a new key. On failure the source is destroyed and nothing is kept. */
  put(content: Readable, options?: BlobPutOptions): Promise<StoredBlob>;
  /** Opens a blob for reading; rejects with BlobNotFoundError if it is not there. */
  get(key: string): Promise<Readable>;
  /** Removes a blob; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes what uploads interrupted by a crash left half-written, if started over
   * `olderThanSeconds` ago (an upload still running is younger than that); answers how many.
   */
  sweepUnfinished(olderThanSeconds: number): Promise<number>;
  /**
   * Keys of complete blobs stored over `olderThanSeconds` ago, at most `limit`: what the file
   * janitor checks against the files that reference blobs, to remove those a crash left
   * unreferenced (written, but their file never registered).
   */
  listOlderThan(olderThanSeconds: number, limit: number): Promise<string[]>;
  /** Releases the store's client (its pooled connections), for a store that has one; called at shutdown. */
  close?(): void | Promise<void>;
}

/** The bytes behind a key are missing: an inconsistency between the database and the store. */
export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`Blob ${key} was not found.`);
    this.name = 'BlobNotFoundError';
    this.key = key;
  }
}

const KEY_PATTERN = /^blob_[0-9a-f]{32}$/;
const TEMP_PREFIX = '.tmp-';

export function isBlobKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * An object store's key prefix as a folder: `portico/files` and `portico/files/` both give keys
 * `portico/files/blob_...`; empty is the bucket's or container's root.
 */
export function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** A new random key, of the one form every store accepts. */
export function newBlobKey(): string {
  return `blob_${randomBytes(16).toString('hex')}`;
}

export class LocalBlobStore implements BlobStore {
  readonly #dir: string;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(content: Readable, options: BlobPutOptions = {}): Promise<StoredBlob> {
    await this.#ensureDir();
    const key = newBlobKey();
    const temp = join(this.#dir, `${TEMP_PREFIX}${key}`);
    const meter = new HashingMeter(options.maxBytes);
    try {
      // `flush` fsyncs before close, so a blob that was renamed into place survives a crash.
      // Window: the meter's two sides and the file's write buffer, a chunk or two each
      // (`spec/stream-window.ts`); the source is read only as fast as the disk takes it.
      await pipeline(content, meter, createWriteStream(temp, { flags: 'wx', flush: true, highWaterMark: STREAM_WINDOW_BYTES }));
      await rename(temp, this.#path(key));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { key, bytes: meter.bytes, sha256: meter.digest() };
  }

  async get(key: string): Promise<Readable> {
    const handle = await open(this.#path(key), 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new BlobNotFoundError(key) : error;
    });
    return new BlobFileReader(handle);
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async sweepUnfinished(olderThanSeconds: number, now: number = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const path = join(this.#dir, name);
      const modified = await stat(path).then((info) => info.mtimeMs, () => undefined);
      if (modified === undefined || now - modified < olderThanSeconds * 1000) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }

  async listOlderThan(olderThanSeconds: number, limit: number, now: number = Date.now()): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const keys: string[] = [];
    for (const name of names) {
      if (keys.length >= limit) break;
      if (!isBlobKey(name)) continue;
      const modified = await stat(join(this.#dir, name)).then((info) => info.mtimeMs, () => undefined);
      if (modified !== undefined && now - modified >= olderThanSeconds * 1000) keys.push(name);
    }
    return keys;
  }

  #path(key: string): string {
    if (!isBlobKey(key)) throw new TypeError('Invalid blob key.');
    return join(this.#dir, key);
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }
}

/**
 * A blob file, read one STREAM_CHUNK_BYTES chunk at a time and only while its reader is under
 * the stream window (what `fs.ReadStream` does, plus counting the bytes for collection pacing,
 * `collection-pacing.ts`). The handle is closed when the stream ends, fails or is destroyed.
 */
class BlobFileReader extends Readable {
  readonly #handle: FileHandle;
  /** Bytes read from the file so far. */
  bytesRead = 0;

  constructor(handle: FileHandle) {
    super({ highWaterMark: STREAM_WINDOW_BYTES });
    this.#handle = handle;
  }

  override _read(): void {
    const buffer = Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES);
    this.#handle.read(buffer, 0, STREAM_CHUNK_BYTES, null).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.bytesRead += bytesRead;
        bytesMoved(bytesRead);
        this.push(bytesRead === STREAM_CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead));
      },
      (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // close() waits for a read still in flight.
    this.#handle.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError as Error)),
    );
  }
}

/**
 * Passes bytes through, counting them and hashing them, and enforcing the size limit (a
 * PayloadTooLargeError once `maxBytes` is exceeded). Shared by the blob store implementations.
 */
export class HashingMeter extends Transform {
  readonly #hash = createHash('sha256');
  readonly #maxBytes: number | undefined;
  bytes = 0;

  constructor(maxBytes: number | undefined) {
    super({ highWaterMark: STREAM_WINDOW_BYTES });
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.bytes += buffer.length;
    bytesMoved(buffer.length);
    if (this.#maxBytes !== undefined && this.bytes > this.#maxBytes) {
      callback(new PayloadTooLargeError(`File exceeds the maximum size of ${this.#maxBytes} bytes.`, { code: 'file_too_large' }));
      return;
    }
    this.#hash.update(buffer);
    callback(null, buffer);
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}
