/**
 * A `BlobStore` in an Azure Blob Storage container, so that instances share no volume and the
 * database holds no bytes. Blobs are block blobs named `<prefix><blob key>`; nothing else under
 * the prefix is touched.
 *
 * - `put` streams through the hashing meter into blocks of `blockBytes`, staged `concurrency`
 *   at a time and committed at the end, so memory per put is at most about
 *   (concurrency + 1) x blockBytes whatever the size, and the client is read only as fast as
 *   blocks leave. Until the commit the blob does not exist for readers.
 * - On a failure nothing is committed: once no staging is in flight, the staged blocks are
 *   discarded (an empty commit, then a delete). The blocks of an upload whose instance crashed
 *   stay uncommitted, never readable, and Azure removes uncommitted blocks by itself after
 *   7 days: `sweepUnfinished` has nothing to do here.
 * - Azure's failures (unreachable, 5xx, throttling, credentials refused) are thrown as
 *   `BlobStoreUnavailableError` (503); a missing blob is `BlobNotFoundError`.
 * - No `close`: the SDK sends every client's requests through one HTTP client shared by the
 *   process (its idle keep-alive sockets do not hold the process open), not one per store.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, type BlockBlobClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { BlobNotFoundError, isBlobKey, newBlobKey, normalisePrefix, type BlobPutOptions, type BlobStore, type StoredBlob } from './blob-store.ts';
import { asBlobStoreUnavailable, reachingStore } from './blob-store-unavailable.ts';
import { meteredUpload } from './metered-upload.ts';

const MiB = 1024 * 1024;

/**
 * Three tries, 0.5 s then 1 s apart, as the S3 SDK's default: the Azure SDK's own default (4 s,
 * 8 s, 16 s) keeps a client waiting half a minute for the 503 of a store that is down.
 */
const PIPELINE_OPTIONS: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4_000 } };

/** How to reach the account: a connection string, or its URL with a key or a SAS token. */
export type AzureBlobAuth =
  | { connectionString: string }
  | { accountUrl: string; accountName: string; accountKey: string }
  | { accountUrl: string; sasToken: string };

export interface AzureBlobStoreOptions {
  auth: AzureBlobAuth;
  container: string;
  /** Prepended to every blob name (`portico/files/`); empty: the container's root. */
  prefix?: string;
  /** Bytes per staged block. Default 4 MiB. */
  blockBytes?: number;
  /** Blocks staged at once by one upload. Default 2. */
  concurrency?: number;
}

export class AzureBlobStore implements BlobStore {
  readonly #container: ContainerClient;
  readonly #prefix: string;
  readonly #blockBytes: number;
  readonly #concurrency: number;

  constructor(options: AzureBlobStoreOptions) {
    const blockBytes = options.blockBytes ?? 4 * MiB;
    const concurrency = options.concurrency ?? 2;
    if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) throw new RangeError('blockBytes must be a positive integer.');
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer.');
    this.#container = serviceClientFor(options.auth).getContainerClient(options.container);
    this.#prefix = normalisePrefix(options.prefix);
    this.#blockBytes = blockBytes;
    this.#concurrency = concurrency;
  }

  async put(content: Readable, options: BlobPutOptions = {}): Promise<StoredBlob> {
    const key = newBlobKey();
    const blob = this.#container.getBlockBlobClient(this.#blobName(key));
    try {
      const { bytes, sha256 } = await meteredUpload(content, options.maxBytes, (body) => reachingStore(() => this.#upload(blob, body)));
      return { key, bytes, sha256 };
    } catch (error) {
      content.destroy();
      // No block is in flight any more: an empty commit discards the staged ones, and the
      // delete removes the then empty blob.
      await blob
        .commitBlockList([])
        .then(() => blob.deleteIfExists())
        .catch(() => undefined);
      throw error;
    }
  }

  /**
   * Stages the body in blocks, `concurrency` at a time, then commits them. Not the SDK's
   * `uploadStream`: on a failure that one returns while blocks are still being staged, which
   * would then outlive the clean-up. Here every staging has settled before this settles.
   */
  async #upload(blob: BlockBlobClient, body: Readable): Promise<void> {
    // Block ids: base64, all of one length within a blob.
    const idPrefix = randomBytes(8).toString('hex');
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const stage = async (data: Buffer): Promise<void> => {
      while (inFlight.size >= this.#concurrency) await Promise.race(inFlight);
      if (failure) throw failure.error;
      const id = Buffer.from(`${idPrefix}-${String(ids.length).padStart(6, '0')}`).toString('base64');
      ids.push(id);
      const staging: Promise<void> = blob
        .stageBlock(id, data, data.length)
        .then(
          () => undefined,
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(staging));
      inFlight.add(staging);
    };
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const piece of body as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < piece.length) {
          const take = Math.min(this.#blockBytes - pendingBytes, piece.length - offset);
          pending.push(piece.subarray(offset, offset + take));
          pendingBytes += take;
          offset += take;
          if (pendingBytes === this.#blockBytes) {
            await stage(Buffer.concat(pending, pendingBytes));
            pending = [];
            pendingBytes = 0;
          }
        }
      }
      if (pendingBytes > 0) await stage(Buffer.concat(pending, pendingBytes));
    } finally {
      await Promise.allSettled(inFlight);
    }
    if (failure) throw failure.error;
    await blob.commitBlockList(ids);
  }

  async get(key: string): Promise<Readable> {
    const blob = this.#container.getBlobClient(this.#blobName(key));
    try {
      const response = await blob.download();
      return response.readableStreamBody as Readable;
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) throw new BlobNotFoundError(key);
      throw asBlobStoreUnavailable(error);
    }
  }

  async delete(key: string): Promise<void> {
    const blob = this.#container.getBlobClient(this.#blobName(key));
    await reachingStore(() => blob.deleteIfExists());
  }

  /** Uncommitted blocks are never readable and expire by themselves (see above). */
  async sweepUnfinished(_olderThanSeconds: number): Promise<number> {
    return 0;
  }

  listOlderThan(olderThanSeconds: number, limit: number, now: number = Date.now()): Promise<string[]> {
    return reachingStore(() => this.#listOlderThan(olderThanSeconds, limit, now));
  }

  async #listOlderThan(olderThanSeconds: number, limit: number, now: number): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of this.#container.listBlobsFlat({ prefix: this.#prefix })) {
      if (keys.length >= limit) break;
      const key = item.name.startsWith(this.#prefix) ? item.name.slice(this.#prefix.length) : undefined;
      if (key === undefined || !isBlobKey(key)) continue;
      if (now - item.properties.lastModified.getTime() >= olderThanSeconds * 1000) keys.push(key);
    }
    return keys;
  }

  #blobName(key: string): string {
    if (!isBlobKey(key)) throw new TypeError('Invalid blob key.');
    return `${this.#prefix}${key}`;
  }
}

function serviceClientFor(auth: AzureBlobAuth): BlobServiceClient {
  if ('connectionString' in auth) return BlobServiceClient.fromConnectionString(auth.connectionString, PIPELINE_OPTIONS);
  if ('accountKey' in auth) return new BlobServiceClient(auth.accountUrl, new StorageSharedKeyCredential(auth.accountName, auth.accountKey), PIPELINE_OPTIONS);
  const url = new URL(auth.accountUrl);
  url.search = auth.sasToken.replace(/^\?/, '');
  return new BlobServiceClient(url.toString(), new AnonymousCredential(), PIPELINE_OPTIONS);
}
