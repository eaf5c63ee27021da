/**
 * Loads an emulated batch's input file into work items: one item per request line (blank lines
 * skipped, as the upload validator counts them), streamed from the blob store and inserted in
 * chunks, so a 50,000-line file is never held in memory. `body.model` becomes the deployment's
 * batch line model.
 *
 * A load may stop early (`until`: the batch starts once its first lines are in, the rest loads
 * while they run) and be resumed (`from`): chunks are inserted in line order, one statement
 * each, so the items present are always the first lines of the file, and a load resumed from
 * their count (after a crash, or in the next pass of the sync) skips exactly those. Inserting is
 * idempotent on (batch, line) as well, so two loads of the same lines add nothing twice.
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

export const INSERT_CHUNK = 100;

export interface LoadRange {
  /** Lines already loaded (the first `from` lines of the file): skipped. Default 0. */
  from?: number;
  /** Stop once the file's first `until` lines are loaded. Default: the whole file. */
  until?: number;
  /** Called after each chunk is inserted (the engine may lease its lines now). */
  onChunk?: () => void;
  /** Paces the load (`BatchItemStore.insertItems`): idle this share of each chunk's time. Default 0. */
  idleShare?: number;
}

export type LoadOutcome =
  /** The input cannot be read: the batch cannot run. */
  | { kind: 'failed'; failure: BatchErrorItem }
  /**
   * Loaded up to `until` or to the end of the file (`complete`); `fileLines` is the request
   * count the upload validator counted (null for files stored before it was kept).
   */
  | { kind: 'loaded'; complete: boolean; fileLines: number | null };

/** Loads the items of `range`; answers whether the file is loaded to its end, or why it cannot be. */
export async function loadBatchItems(deps: ItemLoaderDeps, batch: BatchRecord, lineModel: string, range: LoadRange = {}): Promise<LoadOutcome> {
  const file = await deps.files.getById(batch.inputFileId);
  if (!file?.blobKey) return { kind: 'failed', failure: unreadableInput(batch.inputFileId) };
  const from = range.from ?? 0;
  // Stopping early needs the file's line count: a batch reports it as its total from its start.
  const until = file.lineCount === null ? Number.POSITIVE_INFINITY : (range.until ?? Number.POSITIVE_INFINITY);
  if (file.lineCount !== null && from >= file.lineCount) return { kind: 'loaded', complete: true, fileLines: file.lineCount };
  let content: Readable;
  try {
    content = await deps.blobs.get(file.blobKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return { kind: 'failed', failure: unreadableInput(batch.inputFileId) };
    throw error;
  }
  let complete = true;
  /** The request (0-based, blank lines not counted) that could not be parsed, if one could not. */
  let unparseableRequest: number | undefined;
  async function* newItems(): AsyncGenerator<NewBatchItem> {
    let lineIndex = 0;
    try {
      for await (const request of readBatchInputLines(content)) {
        if (lineIndex >= until) {
          complete = false;
          return;
        }
        if (lineIndex >= from) yield { batchId: batch.id, lineIndex, customId: request.custom_id, request: { ...request, body: { ...request.body, model: lineModel } } };
        lineIndex += 1;
      }
    } catch (error) {
      // The upload's check passed every line, so this is a file stored before that check (or a
      // reader that disagrees with it): loading again would meet the same line, so the batch fails
      // now instead of retrying until it expires.
      if (!(error instanceof SyntaxError)) throw error;
      unparseableRequest = lineIndex;
    }
  }
  try {
    await deps.items.insertItems(newItems(), { chunkSize: INSERT_CHUNK, idleShare: range.idleShare ?? 0, ...(range.onChunk !== undefined && { onChunk: range.onChunk }) });
  } finally {
    // A load that stopped early leaves the rest of the file unread.
    content.destroy();
  }
  if (unparseableRequest !== undefined) return { kind: 'failed', failure: unparseableLine(batch.inputFileId, unparseableRequest) };
  return { kind: 'loaded', complete, fileLines: file.lineCount };
}

function unparseableLine(fileId: string, requestIndex: number): BatchErrorItem {
  return {
    code: 'invalid_json_line',
    message: `Request ${requestIndex + 1} of the input file ${fileId} is not valid JSON.`,
    param: 'input_file_id',
    line: null,
  };
}

function unreadableInput(fileId: string): BatchErrorItem {
  return { code: 'invalid_file', message: `The input file ${fileId} could not be read; it may have been deleted.`, param: 'input_file_id', line: null };
}
