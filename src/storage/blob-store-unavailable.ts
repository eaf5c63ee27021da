/**
 * An object store (S3, Azure Blob Storage) that fails an operation is not a Portico bug nor the
 * client's fault: the object-storage blob stores throw `BlobStoreUnavailableError` (503
 * `blob_store_unavailable`; the client may retry, the router does not) for their SDK's errors
 * instead of the SDK's error itself (which would be an anonymous 500). Only the stores' SDK calls
 * go through here: a missing blob, the size limit and the client's own stream keep their errors.
 */
import { BlobStoreUnavailableError, GatewayError } from '../spec/errors.ts';

/** The error to throw for an SDK call's `error`: a `BlobStoreUnavailableError` with it as cause. */
export function asBlobStoreUnavailable(error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  return new BlobStoreUnavailableError(undefined, { cause: error });
}

/** Runs one SDK call, its failure a `BlobStoreUnavailableError`. */
export async function reachingStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asBlobStoreUnavailable(error);
  }
}
