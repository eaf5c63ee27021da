/**
 * Batches on providers whose batch API takes an uploaded file (OpenAI, Azure OpenAI): make sure
 * the deployment holds a copy of the input file (rewritten for it), create the provider batch,
 * and read its output and error files back when it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from '../../../routing/router.ts';
import { BatchStartUnconfirmedError, GatewayError, NotFoundError } from '../../../spec/errors.ts';
import type { CallOptions, Deployment, FileBatchesCapability, ProviderBatch, ProviderClient } from '../../../spec/provider.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import type { FileRecord, FileStore } from '../../../storage/file-store.ts';
import { nowSeconds, unixSeconds } from '../../../storage/row-mapping.ts';
import { abandonCopies, settleStaleUpload, type FileDeletionDeps } from '../../files/file-deletion.ts';
import { copyFilename, holdsFiles, uploadCopy, type PlacedCopy } from '../../files/file-placement.ts';
import { newFileCopyId } from '../../ids.ts';
import { createOutcomeUnknown, type BatchExecutor, type BatchResults, type BatchStartInput, type StartedBatch } from '../batch-executor.ts';
import { parseResultFile } from '../result-lines.ts';

export interface NativeFileExecutorDeps {
  router: Router;
  files: FileStore;
  blobs: BlobStore;
  /** Removes a provider copy that finished uploading after its file was deleted. */
  deletion: FileDeletionDeps;
}

/**
 * How long an upload holds its copy without renewal (renewed every third of it): a copy whose
 * uploader died is taken over after this.
 */
const COPY_LEASE_MS = 30_000;

/** Between looks at a copy another request is uploading. */
const COPY_POLL_MS = 250;

/** Metadata key of the marker that carries Portico's batch id to the provider batch. */
export const BATCH_MARKER_KEY = 'portico_batch_id';

/** OpenAI and Azure keep at most 16 metadata pairs per batch. */
const MAX_METADATA_PAIRS = 16;

/** Pages of 100 of the provider's batch list searched for a marker. */
const FIND_PAGES = 5;

/** Provider clocks may differ from ours by this much. */
const CLOCK_SKEW_SECONDS = 300;

export class NativeFileExecutor implements BatchExecutor {
  readonly execution = 'native_file' as const;
  readonly #deps: NativeFileExecutorDeps;

  constructor(deps: NativeFileExecutorDeps) {
    this.#deps = deps;
  }

  handles(deployment: Deployment, client: ProviderClient): boolean {
    return holdsFiles(deployment, client);
  }

  async start(input: BatchStartInput): Promise<StartedBatch> {
    const providerFileId = await this.#ensureCopy(input.file, input.deployment, input.call);
    const marked = withMarker(input.request.metadata, input.batchId);
    try {
      const progress = await this.#deps.router.sendTo(
        input.deployment.id,
        (client, call) =>
          fileBatches(client).create(
            {
              providerInputFileId: providerFileId,
              endpoint: input.request.endpoint,
              completionWindow: input.request.completionWindow,
              metadata: marked ?? input.request.metadata,
              outputExpiresAfterSeconds: input.request.outputExpiresAfterSeconds ?? undefined,
            },
            call,
          ),
        // Never retried blindly: a create that timed out may have happened.
        { ...input.call, maxRetries: 0 },
      );
      return { providerBatchId: progress.id, progress };
    } catch (error) {
      // The batch service looks for it by its marker (`findStarted`) before anyone creates again.
      if (createOutcomeUnknown(error, input.call.signal)) throw new BatchStartUnconfirmedError(undefined, { cause: error });
      throw error;
    }
  }

  /** The provider batch whose metadata carries `batch.id` as its marker, searching newest first. */
  async findStarted(batch: Pick<BatchRecord, 'id' | 'deploymentId' | 'createdAt' | 'metadata'>, call: CallOptions): Promise<StartedBatch | null> {
    if (withMarker(batch.metadata, batch.id) === null) throw new BatchStartUnconfirmedError('The batch was created without a marker (its metadata is full); it cannot be looked for.');
    if (!batch.deploymentId) return null;
    if (fileBatches(this.#deps.router.clientFor(batch.deploymentId)).keepsMetadata === false) {
      throw new BatchStartUnconfirmedError("The provider keeps no batch metadata: a batch whose create was not confirmed cannot be looked for by its marker.");
    }
    const found = await this.#deps.router.sendTo(
      batch.deploymentId,
      async (client, attempt) => {
        const batches = fileBatches(client);
        let after: string | undefined;
        for (let page = 0; page < FIND_PAGES; page += 1) {
          const listed = await batches.list({ after, limit: 100 }, attempt);
          const match = listed.batches.find((b) => b.metadata?.[BATCH_MARKER_KEY] === batch.id);
          if (match) return match;
          const oldest = listed.batches.at(-1);
          // Newest first: past batches created before the intent, ours cannot come any more.
          if (!listed.hasMore || !oldest || (oldest.createdAt !== null && oldest.createdAt < batch.createdAt - CLOCK_SKEW_SECONDS)) return null;
          after = oldest.id;
        }
        return null;
      },
      call,
    );
    return found ? { providerBatchId: found.id, progress: found } : null;
  }

  refresh(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return this.#onBatchApi(batch, call, (batches, id, attempt) => batches.retrieve(id, attempt));
  }

  cancel(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return this.#onBatchApi(batch, call, (batches, id, attempt) => batches.cancel(id, attempt));
  }

  async results(batch: BatchRecord, progress: ProviderBatch, call: CallOptions): Promise<BatchResults> {
    const deploymentId = batch.deploymentId!;
    const open = async (providerFileId: string | null) =>
      providerFileId === null
        ? null
        : parseResultFile(await this.#deps.router.sendTo(deploymentId, (client, attempt) => client.files!.content(providerFileId, attempt), call));
    return {
      output: await open(progress.outputFileId),
      error: await open(progress.errorFileId),
      providerOutputFileId: progress.outputFileId,
      providerErrorFileId: progress.errorFileId,
    };
  }

  #onBatchApi(
    batch: BatchRecord,
    call: CallOptions,
    operation: (batches: Extract<ProviderClient['batches'], { kind: 'file' }>, providerBatchId: string, attempt: CallOptions) => Promise<ProviderBatch>,
  ): Promise<ProviderBatch> {
    if (!batch.deploymentId || !batch.providerBatchId) throw new Error(`batch ${batch.id} has no provider batch`);
    const providerBatchId = batch.providerBatchId;
    return this.#deps.router.sendTo(batch.deploymentId, (client, attempt) => operation(fileBatches(client), providerBatchId, attempt), call);
  }

  /**
   * The provider file id of the input's copy on `deployment`, uploading one if there is none.
   * The copy row is written before the upload (state `uploading`, leased to this upload and
   * renewed while it runs), so a concurrent create for the same file waits for this upload
   * instead of making a second copy, and a copy left `uploading` by a request or instance that
   * died (its lease ran out) is settled and uploaded afresh instead of being waited on.
   */
  async #ensureCopy(file: FileRecord, deployment: Deployment, call: CallOptions): Promise<string> {
    const { files } = this.#deps;
    for (;;) {
      call.signal?.throwIfAborted();
      const existing = await files.findCopy(file.id, deployment.id);
      if (existing?.state === 'active' && existing.providerFileId) return existing.providerFileId;
      // Copies turn `deleting` only with their file.
      if (existing?.state === 'deleting') throw inputFileGone(file.id);
      if (existing) {
        if ((existing.leaseExpiresAt ?? 0) > nowSeconds()) await sleep(COPY_POLL_MS, undefined, { signal: call.signal });
        else await settleStaleUpload(this.#deps.deletion, existing);
        continue;
      }
      if (!file.blobKey) throw new GatewayError(500, 'The input file has no stored content to place on a deployment.', { type: 'server_error' });
      const copyId = newFileCopyId();
      try {
        await files.insertCopy({ id: copyId, fileId: file.id, deploymentId: deployment.id, state: 'uploading', createdAt: unixSeconds(), leaseExpiresAt: copyLeaseUntil() });
      } catch (error) {
        // Another request inserted its copy first: wait for that one.
        if (await files.findCopy(file.id, deployment.id)) continue;
        throw error;
      }
      const providerFileId = await this.#upload(file, deployment, copyId, call);
      if (providerFileId !== null) return providerFileId;
      if (!(await files.getActive(file.id))) throw inputFileGone(file.id);
    }
  }

  /**
   * Uploads the copy `copyId` holds and marks it active. Answers null when the copy may not be
   * kept (its file was deleted, or the copy was taken over, while it uploaded): the provider's
   * copy is then deleted again, since nothing references it.
   */
  async #upload(file: FileRecord, deployment: Deployment, copyId: string, call: CallOptions): Promise<string | null> {
    const { files } = this.#deps;
    const renewal = setInterval(() => void files.renewUpload(copyId, copyLeaseUntil()).catch(() => undefined), COPY_LEASE_MS / 3);
    renewal.unref();
    let placed: PlacedCopy;
    try {
      // Named after the copy: if this instance dies before recording the provider's id, the copy is still found.
      placed = await uploadCopy(this.#deps.router, this.#deps.blobs, { blobKey: file.blobKey!, filename: copyFilename(copyId, file.filename) }, deployment, call);
    } catch (error) {
      // Failed or aborted (client gone, shutdown): the row goes, so nobody waits on it.
      await files.deleteCopy(copyId);
      throw error;
    } finally {
      clearInterval(renewal);
    }
    if (await files.completeUpload(copyId, placed.providerFile.id)) return placed.providerFile.id;
    await abandonCopies(this.#deps.deletion, [placed]);
    return null;
  }
}

function fileBatches(client: ProviderClient): FileBatchesCapability {
  if (client.batches?.kind !== 'file') throw new Error(`deployment ${client.deployment.id} lost its batch capability`);
  return client.batches;
}

/**
 * The client's metadata plus Portico's marker (its batch id), which lets a create whose answer
 * was lost be found again; null when the client's metadata leaves no room for it.
 */
function withMarker(metadata: Record<string, string> | null, batchId: string): Record<string, string> | null {
  const pairs = { ...(metadata ?? {}) };
  if (!(BATCH_MARKER_KEY in pairs) && Object.keys(pairs).length >= MAX_METADATA_PAIRS) return null;
  return { ...pairs, [BATCH_MARKER_KEY]: batchId };
}

function copyLeaseUntil(): number {
  return nowSeconds() + COPY_LEASE_MS / 1000;
}

/** The input file was deleted while the batch was being created. */
function inputFileGone(fileId: string): NotFoundError {
  return new NotFoundError(`No such File object: ${fileId}`, { param: 'input_file_id' });
}
