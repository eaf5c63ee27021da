/**
 * Batches on providers whose batch API takes an uploaded file (OpenAI, Azure OpenAI): make sure
 * the deployment holds a copy of the input file (rewritten for it), create the provider batch,
 * and read its output and error files back when it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from '../../../routing/router.ts';
import { GatewayError } from '../../../spec/errors.ts';
import type { CallOptions, Deployment, ProviderBatch, ProviderClient } from '../../../spec/provider.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import type { FileRecord, FileStore } from '../../../storage/file-store.ts';
import { unixSeconds } from '../../../storage/row-mapping.ts';
import { holdsFiles, uploadCopy } from '../../files/file-placement.ts';
import { newFileCopyId } from '../../ids.ts';
import type { BatchExecutor, BatchResults, BatchStartInput, StartedBatch } from '../batch-executor.ts';
import { parseResultFile } from '../result-lines.ts';

export interface NativeFileExecutorDeps {
  router: Router;
  files: FileStore;
  blobs: BlobStore;
}

/** How long a create waits for another request's upload of the same copy. */
const COPY_WAIT_MS = 120_000;

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
    const progress = await this.#deps.router.sendTo(
      input.deployment.id,
      (client, call) => {
        const batches = client.batches;
        if (batches?.kind !== 'file') throw new Error('deployment lost its batch capability');
        return batches.create(
          {
            providerInputFileId: providerFileId,
            endpoint: input.request.endpoint,
            completionWindow: input.request.completionWindow,
            metadata: input.request.metadata,
            outputExpiresAfterSeconds: input.request.outputExpiresAfterSeconds ?? undefined,
          },
          call,
        );
      },
      input.call,
    );
    return { providerBatchId: progress.id, progress };
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
    return this.#deps.router.sendTo(
      batch.deploymentId,
      (client, attempt) => {
        if (client.batches?.kind !== 'file') throw new Error('deployment lost its batch capability');
        return operation(client.batches, providerBatchId, attempt);
      },
      call,
    );
  }

  /**
   * The provider file id of the input's copy on `deployment`, uploading one if there is none.
   * The copy row is written before the upload (state `uploading`), so a concurrent create for
   * the same file waits for this upload instead of making a second copy.
   */
  async #ensureCopy(file: FileRecord, deployment: Deployment, call: CallOptions): Promise<string> {
    const { files } = this.#deps;
    const existing = await files.findCopy(file.id, deployment.id);
    if (existing?.state === 'active' && existing.providerFileId) return existing.providerFileId;
    if (existing) return this.#waitForCopy(file.id, deployment.id);
    if (!file.blobKey) throw new GatewayError(500, 'The input file has no stored content to place on a deployment.', { type: 'server_error' });
    const copyId = newFileCopyId();
    try {
      await files.insertCopy({ id: copyId, fileId: file.id, deploymentId: deployment.id, state: 'uploading', createdAt: unixSeconds() });
    } catch {
      return this.#waitForCopy(file.id, deployment.id);
    }
    try {
      const placed = await uploadCopy(this.#deps.router, this.#deps.blobs, { blobKey: file.blobKey, filename: file.filename }, deployment, call);
      await files.updateCopy(copyId, { providerFileId: placed.providerFile.id, state: 'active' });
      return placed.providerFile.id;
    } catch (error) {
      await files.deleteCopy(copyId);
      throw error;
    }
  }

  async #waitForCopy(fileId: string, deploymentId: string): Promise<string> {
    const deadline = Date.now() + COPY_WAIT_MS;
    while (Date.now() < deadline) {
      const copy = await this.#deps.files.findCopy(fileId, deploymentId);
      if (!copy) break;
      if (copy.state === 'active' && copy.providerFileId) return copy.providerFileId;
      if (copy.state === 'deleting') break;
      await sleep(250);
    }
    throw new GatewayError(503, 'The input file is being placed on the deployment by another request; try again.', { type: 'server_error', isRetryable: true });
  }
}
