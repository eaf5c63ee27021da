/**
 * File cleanup: retries provider deletes that failed (with backoff, until the copy is gone),
 * finishes deletes interrupted by a crash, settles copies left `uploading` by an uploader that
 * died, deletes files whose `expires_at` passed, everywhere, and, now and then, removes blob
 * bytes that an upload interrupted by a crash left half-written.
 * Every step is idempotent, so several instances may run it side by side.
 */
import type { Logger } from '../observability/logger.ts';
import { beginFileDeletion, deleteCopy, finishFileDeletion, type FileDeletionDeps } from '../managed/files/file-deletion.ts';
import { PeriodicJob } from './periodic-job.ts';

/** A blob still unfinished after this long was being written by an instance that died. */
const UNFINISHED_BLOB_SECONDS = 24 * 60 * 60;

/** The half-written blob sweep reads a whole table or directory: not on every run. */
const BLOB_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export function createFileJanitor(deps: FileDeletionDeps, logger: Logger, intervalMs = 5000): PeriodicJob {
  let lastBlobSweep = Number.NEGATIVE_INFINITY;
  return new PeriodicJob('file-janitor', intervalMs, logger, async () => {
    if (Date.now() - lastBlobSweep >= BLOB_SWEEP_INTERVAL_MS) {
      lastBlobSweep = Date.now();
      const swept = await deps.blobs.sweepUnfinished(UNFINISHED_BLOB_SECONDS);
      if (swept > 0) logger.info({ job: 'file-janitor', blobs: swept }, 'removed the bytes of uploads that never finished');
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
    // An upload whose lease ran out died with its request or instance. Its provider id was never
    // recorded, so there is nothing to delete upstream; the row goes, so the next create uploads
    // afresh instead of waiting on it.
    for (const copy of await deps.files.listStaleUploads()) {
      if (await deps.files.removeStaleUpload(copy.id)) {
        logger.warn({ job: 'file-janitor', file_id: copy.fileId, deployment_id: copy.deploymentId }, 'settled a file copy whose upload never finished');
      }
    }
    for (const file of await deps.files.listExpired()) {
      await beginFileDeletion(deps, file);
    }
  });
}
