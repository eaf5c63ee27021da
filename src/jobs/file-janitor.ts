/**
 * File cleanup: retries provider deletes that failed (with backoff, until the copy is gone),
 * finishes deletes interrupted by a crash, settles copies left `uploading` by an uploader that
 * died, deletes files whose `expires_at` passed, everywhere, and, now and then, removes blob
 * bytes that an upload interrupted by a crash left half-written and complete blobs that no file
 * references (a crash between writing a batch's result file and registering it).
 * Every step is idempotent, so several instances may run it side by side.
 */
import type { Logger } from '../observability/logger.ts';
import { beginFileDeletion, deleteCopy, finishFileDeletion, settleStaleUpload, type FileDeletionDeps } from '../managed/files/file-deletion.ts';
import { PeriodicJob } from './periodic-job.ts';
import type { UploadStore } from '../storage/upload-store.ts';
import { unixSeconds } from '../storage/row-mapping.ts';

/** A blob still unfinished after this long was being written by an instance that died. */
const UNFINISHED_BLOB_SECONDS = 24 * 60 * 60;

/**
 * A complete blob that no file references after this long was written by a step that died before
 * registering its file (a result file of a batch whose finalisation crashed, a staged copy).
 * Every writer registers its blob within seconds of writing it (an upload being placed on its
 * targets within minutes), far under this. The parts of an upload in progress (the Uploads API)
 * are referenced by no file, but are at most an hour old: an upload takes parts for an hour.
 */
const ORPHANED_BLOB_SECONDS = 24 * 60 * 60;

/** Blobs checked per sweep of orphaned blobs. */
const ORPHAN_SWEEP_LIMIT = 10_000;

/** The blob sweeps read a whole table or directory: not on every run. */
const BLOB_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface FileJanitorOptions {
  /** How old an unreferenced blob must be before it is removed (tests). */
  orphanedBlobSeconds?: number;
  /** The Uploads API's uploads: those whose hour passed expire, and the parts of finished ones go. */
  uploads?: UploadStore;
}

/** Parts removed per run. */
const UPLOAD_PARTS_PER_RUN = 200;

export function createFileJanitor(deps: FileDeletionDeps, logger: Logger, intervalMs = 5000, options: FileJanitorOptions = {}): PeriodicJob {
  let lastBlobSweep = Number.NEGATIVE_INFINITY;
  return new PeriodicJob('file-janitor', intervalMs, logger, async () => {
    if (Date.now() - lastBlobSweep >= BLOB_SWEEP_INTERVAL_MS) {
      lastBlobSweep = Date.now();
      const swept = await deps.blobs.sweepUnfinished(UNFINISHED_BLOB_SECONDS);
      if (swept > 0) logger.info({ job: 'file-janitor', blobs: swept }, 'removed the bytes of uploads that never finished');
      const orphans = await sweepOrphanedBlobs(deps, options.orphanedBlobSeconds ?? ORPHANED_BLOB_SECONDS);
      if (orphans > 0) logger.info({ job: 'file-janitor', blobs: orphans }, 'removed blobs no file references');
    }
    const due = await deps.files.listCopiesDueForDeleteRetry();
    const touched = new Set<string>();
    for (const copy of due) {
      await deleteCopy(deps, copy);
      touched.add(copy.fileId);
    }
    for (const fileId of touched) await finishFileDeletion(deps, fileId);
    // Files left `deleting` with no copy at all (a crash between steps).
    for (const file of await deps.files.listDeleting()) {
      if ((await deps.files.copiesOf(file.id)).length === 0) await finishFileDeletion(deps, file.id);
    }
    // An upload whose lease ran out died with its request or instance. What it may have left at
    // the provider (found by the copy's name: its provider id was never recorded) is deleted and
    // the row goes, so the next create uploads afresh instead of waiting on it.
    for (const copy of await deps.files.listStaleUploads()) {
      try {
        if (await settleStaleUpload(deps, copy)) {
          logger.warn({ job: 'file-janitor', file_id: copy.fileId, deployment_id: copy.deploymentId }, 'settled a file copy whose upload never finished');
        }
      } catch (error) {
        logger.warn({ job: 'file-janitor', file_id: copy.fileId, deployment_id: copy.deploymentId, err: error instanceof Error ? error.message : String(error) }, 'could not look for the provider copy of an upload that never finished; will retry');
      }
    }
    for (const file of await deps.files.listExpired()) {
      await beginFileDeletion(deps, file);
    }
    const uploads = options.uploads;
    if (uploads !== undefined) {
      const expired = await uploads.expirePending(unixSeconds());
      if (expired > 0) logger.info({ job: 'file-janitor', uploads: expired }, 'expired uploads not completed within their hour');
      // A completed upload's file has bytes of its own; cancelled and expired ones keep none.
      for (const part of await uploads.leftoverParts(UPLOAD_PARTS_PER_RUN)) {
        await deps.blobs.delete(part.blobKey);
        await uploads.deletePart(part.id);
      }
    }
  });
}

/** Removes complete blobs older than `olderThanSeconds` that no file row references; answers how many. */
export async function sweepOrphanedBlobs(deps: Pick<FileDeletionDeps, 'blobs' | 'files'>, olderThanSeconds: number): Promise<number> {
  const keys = await deps.blobs.listOlderThan(olderThanSeconds, ORPHAN_SWEEP_LIMIT);
  let removed = 0;
  for (let start = 0; start < keys.length; start += 500) {
    const page = keys.slice(start, start + 500);
    const inUse = await deps.files.blobKeysInUse(page);
    for (const key of page) {
      if (inUse.has(key)) continue;
      await deps.blobs.delete(key);
      removed += 1;
    }
  }
  return removed;
}
