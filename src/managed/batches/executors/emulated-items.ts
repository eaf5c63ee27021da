/**
 * Loads an emulated batch's input file into work items: one item per request line (blank lines
 * skipped, as the upload validator counts them), streamed from the blob store and inserted in
 * chunks, so a 50,000-line file is never held in memory. `body.model` becomes the deployment's
 * batch line model. Idempotent: loading again after a crash skips the lines already inserted.
 *
 * Items reference the batch row by foreign key, so they are loaded after the batch is stored:
 * by the first refresh of a `validating` batch, not by `start`.
 */
import type { Readable } from 'node:stream';
import type { BatchErrorItem } from '../../../spec/openai-objects.ts';
import type { BatchItemStore, NewBatchItem } from '../../../storage/batch-item-store.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import { BlobNotFoundError, type BlobStore } from '../../../storage/blob-store.ts';
import type { FileStore } from '../../../storage/file-store.ts';
import { readBatchInputLines } from '../../jsonl/batch-input-lines.ts';

export interface ItemLoaderDeps {
  items: BatchItemStore;
  files: FileStore;
  blobs: BlobStore;
}

const INSERT_CHUNK = 100;

/** Loads the items; answers the reason the batch cannot run when the input is unreadable. */
export async function loadBatchItems(deps: ItemLoaderDeps, batch: BatchRecord, lineModel: string): Promise<BatchErrorItem | null> {
  const file = await deps.files.getById(batch.inputFileId);
  if (!file?.blobKey) return unreadableInput(batch.inputFileId);
  let content: Readable;
  try {
    content = await deps.blobs.get(file.blobKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return unreadableInput(batch.inputFileId);
    throw error;
  }
  async function* newItems(): AsyncGenerator<NewBatchItem> {
    let lineIndex = 0;
    for await (const request of readBatchInputLines(content)) {
      yield { batchId: batch.id, lineIndex, customId: request.custom_id, request: { ...request, body: { ...request.body, model: lineModel } } };
      lineIndex += 1;
    }
  }
  await deps.items.insertItems(newItems(), { chunkSize: INSERT_CHUNK });
  return null;
}

function unreadableInput(fileId: string): BatchErrorItem {
  return { code: 'invalid_file', message: `The input file ${fileId} could not be read; it may have been deleted.`, param: 'input_file_id', line: null };
}
