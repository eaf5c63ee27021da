/**
 * A `BlobStore` in an S3 bucket (AWS S3, or any S3-compatible store: MinIO, R2, Ceph, ...), so
 * that instances share no volume and the database holds no bytes. Objects are
 * `<prefix><blob key>`; nothing else under the prefix is touched.
 *
 * - `put` streams through the hashing meter into `@aws-sdk/lib-storage`'s `Upload`: a single
 *   PUT when the whole blob fits in one part, else a multipart upload sending `queueSize` parts
 *   at a time. Memory per put is at most about (queueSize + 2) x partBytes whatever the size
 *   (the parts in flight, the one being gathered, and the one `Upload` cut it from),
 *   and the client is read only as fast as parts leave. On any failure (the client's, the size
 *   limit's, S3's) the multipart upload is aborted, so no part is kept, and an object already
 *   written is deleted.
 * - A crash mid-upload leaves an unfinished multipart upload (invisible to readers, but its
 *   parts are billed): `sweepUnfinished` aborts those under the prefix started long enough ago.
 * - Checksums: the SDK's default CRC trailers (aws-chunked bodies) are only sent when an
 *   operation requires them, since several S3-compatible stores do not understand them; the
 *   sha256 Portico keeps is computed here anyway.
 * - S3's failures (unreachable, 5xx, throttling, credentials refused) are thrown as
 *   `BlobStoreUnavailableError` (503); a missing key is `BlobNotFoundError`.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobNotFoundError, isBlobKey, newBlobKey, normalisePrefix, type BlobPutOptions, type BlobStore, type StoredBlob } from './blob-store.ts';
import { asBlobStoreUnavailable, reachingStore } from './blob-store-unavailable.ts';
import { meteredUpload } from './metered-upload.ts';

const MiB = 1024 * 1024;
/** S3's smallest part (but the last). */
export const S3_MIN_PART_BYTES = 5 * MiB;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every object key (`portico/files/`); empty: the bucket's root. */
  prefix?: string;
  region?: string;
  /** An S3-compatible store's URL (`http://127.0.0.1:9000`); absent: AWS. */
  endpoint?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, most emulators). */
  forcePathStyle?: boolean;
  /** Absent: the SDK's default credential chain (environment, profile, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Bytes per part of a multipart upload (at least 5 MiB). Default 5 MiB. */
  partBytes?: number;
  /** Parts sent at once by one upload. Default 2. */
  queueSize?: number;
}

export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partBytes: number;
  readonly #queueSize: number;

  constructor(options: S3BlobStoreOptions) {
    const partBytes = options.partBytes ?? S3_MIN_PART_BYTES;
    const queueSize = options.queueSize ?? 2;
    if (!Number.isSafeInteger(partBytes) || partBytes < S3_MIN_PART_BYTES) throw new RangeError('partBytes must be an integer of at least 5 MiB.');
    if (!Number.isSafeInteger(queueSize) || queueSize < 1) throw new RangeError('queueSize must be a positive integer.');
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      followRegionRedirects: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
    };
    this.#client = new S3Client(config);
    this.#bucket = options.bucket;
    this.#prefix = normalisePrefix(options.prefix);
    this.#partBytes = partBytes;
    this.#queueSize = queueSize;
  }

  async put(content: Readable, options: BlobPutOptions = {}): Promise<StoredBlob> {
    const key = newBlobKey();
    const objectKey = this.#objectKey(key);
    try {
      const { bytes, sha256 } = await meteredUpload(content, options.maxBytes, async (body) => {
        const upload = new Upload({
          client: this.#client,
          params: { Bucket: this.#bucket, Key: objectKey, Body: body },
          partSize: this.#partBytes,
          queueSize: this.#queueSize,
          // Parts of a failed upload are aborted with it (the default, said for the reader).
          leavePartsOnError: false,
        });
        await reachingStore(() => upload.done());
      });
      return { key, bytes, sha256 };
    } catch (error) {
      content.destroy();
      // A single PUT may have landed before a later step failed. If even this fails, the object
      // is complete but unreferenced: the janitor's orphan sweep removes it.
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: objectKey })).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const command = new GetObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) });
    try {
      const response = await this.#client.send(command);
      return response.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: unknown }).name === 'NoSuchKey') throw new BlobNotFoundError(key);
      throw asBlobStoreUnavailable(error);
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a key that is not there.
    const command = new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) });
    await reachingStore(() => this.#client.send(command));
  }

  sweepUnfinished(olderThanSeconds: number, now: number = Date.now()): Promise<number> {
    return reachingStore(() => this.#sweepUnfinished(olderThanSeconds, now));
  }

  async #sweepUnfinished(olderThanSeconds: number, now: number): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.#client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: this.#prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined || this.#blobKeyOf(upload.Key) === undefined) continue;
        if (upload.Initiated === undefined || now - upload.Initiated.getTime() < olderThanSeconds * 1000) continue;
        await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: upload.Key, UploadId: upload.UploadId }));
        aborted += 1;
      }
      if (!page.IsTruncated) return aborted;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  listOlderThan(olderThanSeconds: number, limit: number, now: number = Date.now()): Promise<string[]> {
    return reachingStore(() => this.#listOlderThan(olderThanSeconds, limit, now));
  }

  async #listOlderThan(olderThanSeconds: number, limit: number, now: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (keys.length >= limit) return keys;
        const key = object.Key === undefined ? undefined : this.#blobKeyOf(object.Key);
        if (key === undefined || object.LastModified === undefined) continue;
        if (now - object.LastModified.getTime() >= olderThanSeconds * 1000) keys.push(key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  /** Closes the client's idle connections. */
  close(): void {
    this.#client.destroy();
  }

  #objectKey(key: string): string {
    if (!isBlobKey(key)) throw new TypeError('Invalid blob key.');
    return `${this.#prefix}${key}`;
  }

  /** The blob key of an object under the prefix, if it is one of ours. */
  #blobKeyOf(objectKey: string): string | undefined {
    if (!objectKey.startsWith(this.#prefix)) return undefined;
    const key = objectKey.slice(this.#prefix.length);
    return isBlobKey(key) ? key : undefined;
  }
}
