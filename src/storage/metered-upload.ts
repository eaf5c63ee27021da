/**
 * The streaming half shared by the object-storage blob stores: the source runs through the
 * hashing meter (length, sha256, size limit) into an upload that reads the meter as it pleases,
 * so backpressure reaches the client and memory is what the upload buffers.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingMeter } from './blob-store.ts';

export interface MeteredUpload<T> {
  result: T;
  bytes: number;
  sha256: string;
}

/**
 * Settles only once both the feeding and the upload have settled, so that nothing of a failed
 * put is still running when the caller cleans up. A failure on either side destroys the other:
 * the source's error (or the size limit's) is the one thrown when there is one.
 */
export async function meteredUpload<T>(content: Readable, maxBytes: number | undefined, upload: (body: Readable) => Promise<T>): Promise<MeteredUpload<T>> {
  const meter = new HashingMeter(maxBytes);
  // On any error pipeline destroys both the source and the meter; the upload, reading the
  // meter, then fails too.
  const feeding = pipeline(content, meter);
  const uploading = Promise.resolve()
    .then(() => upload(meter))
    .catch((error: unknown) => {
      // The upload stopped reading: unblock the feeding, and release the client's stream.
      meter.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
  const [fed, uploaded] = await Promise.allSettled([feeding, uploading]);
  if (fed.status === 'rejected') throw fed.reason;
  if (uploaded.status === 'rejected') throw uploaded.reason;
  return { result: uploaded.value, bytes: meter.bytes, sha256: meter.digest() };
}
