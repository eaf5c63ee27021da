/**
 * File cleanup: retries provider deletes that failed (with backoff, until the copy is gone),
 * finishes deletes interrupted by a crash, and deletes files whose `expires_at` passed, everywhere.
 * Every step is idempotent, so several instances may run it side by side.
 */
import type { Logger } from '../observability/logger.ts';
import { beginFileDeletion, deleteCopy, finishFileDeletion, type FileDeletionDeps } from '../managed/files/file-deletion.ts';
import { PeriodicJob } from './periodic-job.ts';

export function createFileJanitor(deps: FileDeletionDeps, logger: Logger, intervalMs = 5000): PeriodicJob {
  return new PeriodicJob('file-janitor', intervalMs, logger, async () => {
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
    for (const file of await deps.files.listExpired()) {
      await beginFileDeletion(deps, file);
    }
  });
}
