/**
 * Deleting a file everywhere: every provider copy (concurrently) and the gateway's bytes. The
 * file turns `deleting` first, in one transaction with its copies, so the client never sees a
 * half-deleted file; a copy whose provider delete fails stays `deleting` and the cleanup job
 * (`jobs/file-janitor.ts`) retries it with backoff until it is gone.
 */
import type { Logger } from '../../observability/logger.ts';
import type { Router } from '../../routing/router.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { FileCopyRecord, FileRecord, FileStore } from '../../storage/file-store.ts';
import { nowSeconds, unixSeconds } from '../../storage/row-mapping.ts';
import { newFileCopyId, newFileId } from '../ids.ts';
import { findPlacedCopy, removeCopies, type PlacedCopy } from './file-placement.ts';

export interface FileDeletionDeps {
  router: Router;
  files: FileStore;
  blobs: BlobStore;
  logger: Logger;
  /** First wait before a failed provider delete is retried, seconds. */
  retryBaseSeconds: number;
}

/** Seconds before the next retry of a failed provider delete: the base doubling to 10 min. */
export function deleteRetryDelaySeconds(attempts: number, baseSeconds: number): number {
  return Math.min(600, baseSeconds * 2 ** Math.min(attempts, 10));
}

/** Starts deleting `file`; answers false if it was not active (a concurrent delete won). */
export async function beginFileDeletion(deps: FileDeletionDeps, file: FileRecord): Promise<boolean> {
  // The first background retry is scheduled now, so a crash mid-delete is finished by the job.
  if (!(await deps.files.markDeleting(file.id, nowSeconds() + deleteRetryDelaySeconds(0, deps.retryBaseSeconds)))) return false;
  await finishFileDeletion(deps, file.id);
  return true;
}

/**
 * Deletes whatever is left of a `deleting` file: its copies (concurrently), then its bytes and
 * row once no copy remains. Safe to call repeatedly and from several instances.
 */
export async function finishFileDeletion(deps: FileDeletionDeps, fileId: string): Promise<boolean> {
  const copies = await deps.files.copiesOf(fileId);
  const outcomes = await Promise.all(copies.map((copy) => deleteCopy(deps, copy)));
  if (outcomes.some((gone) => !gone)) return false;
  const file = await deps.files.getById(fileId);
  if (file?.blobKey) await deps.blobs.delete(file.blobKey);
  await deps.files.deleteFile(fileId);
  return true;
}

/** Deletes one provider copy; answers whether it is gone. */
export async function deleteCopy(deps: FileDeletionDeps, copy: FileCopyRecord): Promise<boolean> {
  const deployment = deps.router.deployment(copy.deploymentId);
  if (!deployment || copy.providerFileId === null) {
    // The deployment left the config (nothing can reach the copy any more) or the upload
    // never answered: there is nothing we can delete.
    if (!deployment) deps.logger.warn({ deployment_id: copy.deploymentId, file_id: copy.fileId }, 'file copy on a removed deployment dropped');
    await deps.files.deleteCopy(copy.id);
    return true;
  }
  try {
    await deps.router.sendTo(copy.deploymentId, (client, call) => {
      if (!client.files) throw new Error(`deployment ${copy.deploymentId} no longer keeps files`);
      return client.files.delete(copy.providerFileId!, call);
    });
    await deps.files.deleteCopy(copy.id);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.files.updateCopy(copy.id, {
      state: 'deleting',
      incrementAttempts: true,
      lastError: message.slice(0, 500),
      nextAttemptAt: nowSeconds() + deleteRetryDelaySeconds(copy.attempts, deps.retryBaseSeconds),
    });
    deps.logger.warn({ deployment_id: copy.deploymentId, file_id: copy.fileId, attempts: copy.attempts + 1 }, 'provider file delete failed; will retry');
    return false;
  }
}

/**
 * Removes provider copies that no file references (an upload that failed half-way, a copy whose
 * file was deleted while it uploaded). A copy that will not go away now is recorded under a
 * hidden `deleting` file, so the cleanup job keeps trying: nothing is left behind for good.
 */
export async function abandonCopies(deps: FileDeletionDeps, copies: readonly PlacedCopy[]): Promise<void> {
  if (copies.length === 0) return;
  const leftovers = await removeCopies(deps.router, copies);
  if (leftovers.length === 0) return;
  const now = unixSeconds();
  const fileId = newFileId();
  await deps.files.insert(
    { id: fileId, owner: 'system:abandoned-upload', purpose: 'batch', filename: 'abandoned.jsonl', bytes: 0, createdAt: now, status: 'error' },
    leftovers.map((copy) => ({ id: newFileCopyId(), deploymentId: copy.deployment.id, providerFileId: copy.providerFile.id, state: 'active' as const, createdAt: now })),
  );
  await deps.files.markDeleting(fileId, nowSeconds() + deleteRetryDelaySeconds(0, deps.retryBaseSeconds));
}

/**
 * Settles a copy left `uploading` by an upload whose lease ran out (its request or instance
 * died). The upload may have finished at the provider before the death, with its provider id
 * never recorded: that copy is looked for by its name (`findPlacedCopy`) and deleted, so nothing
 * is left at the provider. The row goes first (guarded: still uploading, still stale), so a
 * copy whose uploader finished after all is never deleted under it. Answers whether this call
 * settled it; throws, keeping the row, when the provider cannot be asked.
 */
export async function settleStaleUpload(deps: FileDeletionDeps, copy: FileCopyRecord): Promise<boolean> {
  const deployment = deps.router.deployment(copy.deploymentId);
  // A deployment that left the config cannot be asked; there is nothing to look for.
  const placed = deployment ? await findPlacedCopy(deps.router, copy) : null;
  if (!(await deps.files.removeStaleUpload(copy.id))) return false;
  if (deployment && placed) {
    deps.logger.warn({ deployment_id: copy.deploymentId, file_id: copy.fileId, provider_file_id: placed.id }, 'deleting the provider copy of an upload that died before it was recorded');
    await abandonCopies(deps, [{ deployment, providerFile: placed }]);
  }
  return true;
}
