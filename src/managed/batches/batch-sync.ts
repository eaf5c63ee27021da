/**
 * Brings one stored batch up to date with its executor, and finalises it exactly once when it
 * ends: result files written and registered, usage taken, cost added to the key's spend, and only
 * then the terminal status stored, so no client ever sees `completed` without its output file.
 *
 * Callers hold the batch's lease (the poller, or a client's retrieve that took it), so one
 * instance at a time works a batch; the registration and cost steps are exactly-once in the
 * database as well, in case a lease expires under a slow finaliser.
 */
import { randomBytes } from 'node:crypto';
import type { FilesSettings } from '../../config/types.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Router } from '../../routing/router.ts';
import { TERMINAL_BATCH_STATUSES, type BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';
import type { BatchPatch, BatchRecord, BatchStore, ResultFileRegistration } from '../../storage/batch-store.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { nowSeconds, unixSeconds } from '../../storage/row-mapping.ts';
import type { WrittenAlongside } from '../../storage/written-alongside.ts';
import { newFileCopyId, newFileId } from '../ids.ts';
import { batchCost } from './batch-cost.ts';
import type { BatchExecutor } from './batch-executor.ts';
import { materialiseResults, type MaterialisedResults } from './result-files.ts';

export interface BatchSyncDeps {
  router: Router;
  batches: BatchStore;
  blobs: BlobStore;
  executors: readonly BatchExecutor[];
  files: FilesSettings;
  logger: Logger;
  /** Identifies this process in lease owners. */
  instanceId: string;
  /**
   * What is written with a batch's terminal status, in its transaction (the webhook outbox's
   * `batch.completed`, ...): it exists exactly when the status was stored.
   */
  terminalEvents?: (batch: BatchRecord, status: BatchStatus) => WrittenAlongside | undefined;
}

/**
 * How long a sync holds a batch without renewal. A running sync renews it every third of this
 * (a finalisation that downloads a large output keeps its lease); an instance that died mid-sync
 * lets go of the batch after this, and another instance takes it over.
 */
export const SYNC_LEASE_MS = 15_000;

/** When a non-terminal batch is next refreshed: soon at first, then every minute at most. */
export function nextSyncDelaySeconds(batch: Pick<BatchRecord, 'createdAt' | 'syncFailures' | 'execution' | 'status'>, now = unixSeconds()): number {
  if (batch.syncFailures > 0) return Math.min(300, 2 ** Math.min(batch.syncFailures, 8));
  // The engine's progress is local and cheap to read; provider batches are polled politely. A
  // new emulated batch is refreshed at once (the refresh loads its lines and starts it), and so
  // is one `finalizing` (its next refresh writes the files and completes it).
  if (batch.execution === 'emulated') return batch.status === 'validating' || batch.status === 'finalizing' ? 0 : 1;
  const age = now - batch.createdAt;
  return age < 60 ? 2 : age < 600 ? 10 : age < 3600 ? 30 : 60;
}

/** Syncs of one batch in a row within one lease while its state settles without waiting (validating -> in_progress, finalizing -> completed). */
const MAX_PASSES_PER_SYNC = 3;

export class BatchSynchronizer {
  readonly #deps: BatchSyncDeps;
  readonly #syncWanted: ((batchId: string) => void)[] = [];
  readonly #statusChanged: ((batch: BatchRecord) => void)[] = [];

  constructor(deps: BatchSyncDeps) {
    this.#deps = deps;
  }

  executorFor(batch: Pick<BatchRecord, 'execution'>): BatchExecutor {
    const executor = this.#deps.executors.find((e) => e.execution === batch.execution) ?? this.#deps.executors.find((e) => e.formerExecutions?.includes(batch.execution));
    if (!executor) throw new Error(`no executor for batch execution '${batch.execution}'`);
    return executor;
  }

  /** `listener` is called when a batch should be synced now rather than when due (the poller does it). */
  onSyncWanted(listener: (batchId: string) => void): void {
    this.#syncWanted.push(listener);
  }

  /** `listener` is called after a sync stored a new status (the engine starts an `in_progress` batch at once). */
  onStatusChange(listener: (batch: BatchRecord) => void): void {
    this.#statusChanged.push(listener);
  }

  /** Asks for a sync of the batch now: it was just created, or the engine recorded its last line. */
  wantSync(batchId: string): void {
    for (const listener of this.#syncWanted) listener(batchId);
  }

  /**
   * Syncs the batch now if its lease is free. Answers false when another sync holds it (that one
   * may have read the batch before the change, so the caller asks again shortly).
   */
  async syncIfFree(batchId: string): Promise<boolean> {
    const batch = await this.#deps.batches.getById(batchId);
    if (!batch || batch.creating || TERMINAL_BATCH_STATUSES.has(batch.status)) return true;
    const owner = this.newLeaseOwner();
    if (!(await this.#deps.batches.acquireLease(batch.id, owner, SYNC_LEASE_MS))) return false;
    await this.syncLeased({ ...batch, leaseOwner: owner }, owner);
    return true;
  }

  /** A lease owner token unique to one sync. */
  newLeaseOwner(): string {
    return `${this.#deps.instanceId}:${randomBytes(6).toString('hex')}`;
  }

  /**
   * Refreshes `batch` if its lease can be taken now (a client's retrieve); otherwise leaves it to
   * whoever holds it. Answers the batch as stored afterwards. The client waits for this one: work
   * its executor has for the batch beyond its state (`syncAgainNow`) is left to the poller.
   */
  async refreshIfFree(batch: BatchRecord): Promise<BatchRecord> {
    const owner = this.newLeaseOwner();
    if (!(await this.#deps.batches.acquireLease(batch.id, owner, SYNC_LEASE_MS))) return batch;
    await this.syncLeased({ ...batch, leaseOwner: owner }, owner, { clientWaits: true });
    return (await this.#deps.batches.getById(batch.id)) ?? batch;
  }

  /**
   * Syncs a batch whose lease `owner` holds, then releases the lease with the next sync time.
   * `clientWaits`: a client's request waits for this sync, which then does no work the executor
   * asks for beyond the batch's state (`syncAgainNow`), and asks the poller for it instead.
   */
  async syncLeased(batch: BatchRecord, owner: string, options: { clientWaits?: boolean } = {}): Promise<void> {
    const { batches } = this.#deps;
    const renewal = setInterval(() => void batches.renewLease(batch.id, owner, SYNC_LEASE_MS).catch(() => undefined), SYNC_LEASE_MS / 3);
    renewal.unref();
    try {
      if (await this.#sync(batch, owner, options.clientWaits === true)) this.wantSync(batch.id);
    } finally {
      clearInterval(renewal);
    }
  }

  /** Answers true when work the executor asked for now was left for another sync. */
  async #sync(batch: BatchRecord, owner: string, clientWaits: boolean): Promise<boolean> {
    const { batches, logger } = this.#deps;
    try {
      if (batch.waitingForQuota) {
        await this.#syncWaiting(batch, owner);
        return false;
      }
      const executor = this.executorFor(batch);
      let current = batch;
      let workPasses = 0;
      let workLeft = false;
      for (let pass = 1; ; pass++) {
        let progress = await executor.refresh(current, {});
        // A batch marked `cancelling` without its provider knowing (its key was deleted) is
        // cancelled there now; asking again while the provider catches up does no harm.
        if (current.status === 'cancelling' && (progress.status === 'validating' || progress.status === 'in_progress')) progress = await executor.cancel(current, {});
        await this.applyProgress(current, progress, owner);
        const previous = current.status;
        current = (await batches.getById(batch.id)) ?? current;
        if (current.status !== previous) for (const listener of this.#statusChanged) listener(current);
        // A state that settles without waiting for anyone is synced again in the same lease, and
        // so is a batch its executor has more work for now (an emulated batch's other lines to
        // load): that pass is work, not a state settling, so it does not count as one.
        if (TERMINAL_BATCH_STATUSES.has(current.status)) break;
        if (progress.syncAgainNow === true) {
          workLeft = clientWaits || workPasses >= MAX_PASSES_PER_SYNC;
          if (workLeft) break;
          workPasses += 1;
          continue;
        }
        if (pass - workPasses >= MAX_PASSES_PER_SYNC || nextSyncDelaySeconds({ ...current, syncFailures: 0 }) > 0) break;
      }
      await batches.releaseLease(batch.id, owner, {
        syncFailures: 0,
        lastSyncedAt: nowSeconds(),
        nextSyncAt: TERMINAL_BATCH_STATUSES.has(current.status) ? null : nowSeconds() + (workLeft ? 0 : nextSyncDelaySeconds({ ...current, syncFailures: 0 })),
      });
      return workLeft;
    } catch (error) {
      const failures = batch.syncFailures + 1;
      logger.warn({ batch_id: batch.id, failures, err: error instanceof Error ? error.message : String(error) }, 'batch sync failed; will retry');
      await batches.releaseLease(batch.id, owner, {
        syncFailures: failures,
        nextSyncAt: nowSeconds() + nextSyncDelaySeconds({ ...batch, syncFailures: failures }),
      });
      return false;
    }
  }

  /**
   * A batch waiting for its deployment's enqueued-token quota has nothing at a provider to ask:
   * cancelled (by its client, or its key's deletion) or past its completion window, it ends here;
   * otherwise it is looked at again when it expires (the quota starter starts it before, if it can).
   */
  async #syncWaiting(batch: BatchRecord, owner: string): Promise<void> {
    const { batches } = this.#deps;
    const now = unixSeconds();
    const status: BatchStatus | undefined = batch.status === 'cancelling' ? 'cancelled' : batch.expiresAt !== null && batch.expiresAt <= now ? 'expired' : undefined;
    if (status === undefined) {
      await batches.releaseLease(batch.id, owner, { lastSyncedAt: nowSeconds(), nextSyncAt: batch.expiresAt ?? null });
      return;
    }
    const patch: BatchPatch & { status: BatchStatus } =
      status === 'cancelled'
        ? { status, cancelledAt: now, cancellingAt: batch.cancellingAt ?? now, nextSyncAt: null }
        : { status, expiredAt: now, nextSyncAt: null, errors: [{ code: 'batch_expired', message: 'The batch waited for room in its deployment\'s enqueued-token quota past its completion window.', param: null, line: null }] };
    // The terminal state first (it releases the hold): a batch the quota starter took meanwhile is not ended here.
    if (!(await batches.storeTerminal(batch.id, patch, { leaseOwner: owner }, this.terminalEvents(batch, status)))) return;
    await batches.recordCostOnce(batch.id, 0, batch.keyId, now, {
      id: `spend_${batch.id}`,
      requestId: batch.id,
      callType: 'batch',
      modelGroup: batch.modelGroup,
      deploymentId: batch.deploymentId ?? null,
      provider: null,
      model: null,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      reasoningTokens: 0,
      totalTokens: 0,
      status: 'failure',
      latencyMs: Math.max(0, now - batch.createdAt) * 1000,
      startedAt: batch.createdAt,
      endedAt: now,
      requestCount: 0,
    });
    await batches.releaseLease(batch.id, owner, { lastSyncedAt: nowSeconds(), nextSyncAt: null });
    for (const listener of this.#statusChanged) listener((await batches.getById(batch.id)) ?? batch);
  }

  /** Stores what the executor reported; a terminal report finalises the batch. */
  async applyProgress(batch: BatchRecord, progress: ProviderBatch, owner: string): Promise<void> {
    if (TERMINAL_BATCH_STATUSES.has(progress.status)) {
      await this.#finalise(batch, progress, owner);
      return;
    }
    // A cancel we asked for is not undone by a provider that has not caught up yet, nor one that
    // landed after `batch` was read (keepCancel).
    const status: BatchStatus = batch.status === 'cancelling' && progress.status !== 'cancelling' ? 'cancelling' : progress.status;
    await this.#deps.batches.update(batch.id, { ...progressFields(batch, progress), status }, { leaseOwner: owner, keepCancel: true });
  }

  async #finalise(batch: BatchRecord, progress: ProviderBatch, owner: string): Promise<void> {
    const { batches, blobs, router } = this.#deps;
    const results = await this.executorFor(batch).results(batch, progress, {});
    const output = results.output ? await materialiseResults(blobs, results.output, router.redact) : null;
    let error: MaterialisedResults | null;
    try {
      error = results.error ? await materialiseResults(blobs, results.error, router.redact) : null;
    } catch (failure) {
      // The sync fails and the next one writes both files again: the output written here would
      // be referenced by nothing (a failed put keeps nothing itself).
      if (output) await blobs.delete(output.blob.key).catch(() => undefined);
      throw failure;
    }
    const now = unixSeconds();
    const expiresAfter = batch.outputExpiresAfterSeconds ?? (this.#deps.files.batchFileDefaultExpirySeconds || null);
    const registration = (kind: 'output' | 'error', result: MaterialisedResults, providerFileId: string | null | undefined): ResultFileRegistration => ({
      file: {
        id: newFileId(),
        filename: `batch_${batch.id}_${kind}.jsonl`,
        bytes: result.blob.bytes,
        createdAt: now,
        status: 'processed',
        expiresAt: expiresAfter === null ? null : now + expiresAfter,
        checksum: result.blob.sha256,
        blobKey: result.blob.key,
        lineCount: result.lines,
      },
      // The provider's own copy goes with ours: deleting our file deletes it there too.
      copies: providerFileId && batch.deploymentId ? [{ id: newFileCopyId(), deploymentId: batch.deploymentId, providerFileId, state: 'active', createdAt: now }] : [],
    });
    const registered = await batches.registerResultFiles(batch.id, {
      output: output ? registration('output', output, results.providerOutputFileId) : undefined,
      error: error ? registration('error', error, results.providerErrorFileId) : undefined,
    });
    if (output && !registered.registeredOutput) await blobs.delete(output.blob.key);
    if (error && !registered.registeredError) await blobs.delete(error.blob.key);

    // Summed from the result lines where the executor reports none (Portico's engine); a batch
    // whose every line failed used no tokens: its error lines' zero usage, not none.
    const usage = progress.usage ?? output?.usage ?? error?.usage ?? null;
    const deployment = batch.deploymentId ? router.deployment(batch.deploymentId) : undefined;
    const cost = deployment ? batchCost(usage, deployment.pricing) : 0;
    const lines = progress.requestCounts.total > 0 ? progress.requestCounts.total : (output?.lines ?? 0) + (error?.lines ?? 0);
    await batches.recordCostOnce(batch.id, cost, batch.keyId, now, {
      id: `spend_${batch.id}`,
      requestId: batch.id,
      callType: 'batch',
      modelGroup: batch.modelGroup,
      deploymentId: batch.deploymentId ?? null,
      provider: deployment?.providerName ?? null,
      model: deployment?.upstreamModel ?? null,
      promptTokens: usage?.input_tokens ?? 0,
      completionTokens: usage?.output_tokens ?? 0,
      cachedTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
      reasoningTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
      totalTokens: usage?.total_tokens ?? (usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0),
      status: progress.status === 'completed' ? 'success' : 'failure',
      latencyMs: Math.max(0, now - batch.createdAt) * 1000,
      startedAt: batch.createdAt,
      endedAt: now,
      requestCount: lines,
    });

    const fields = progressFields(batch, progress);
    const counts = progress.requestCounts.total > 0 ? {} : { requestTotal: (output?.lines ?? 0) + (error?.lines ?? 0), requestCompleted: output?.lines ?? 0, requestFailed: error?.lines ?? 0 };
    await batches.storeTerminal(
      batch.id,
      { ...fields, ...counts, ...terminalTimestamps(batch, progress, now), status: progress.status, usage, nextSyncAt: null },
      { leaseOwner: owner },
      this.terminalEvents(batch, progress.status),
    );
  }

  /** What goes with `batch`'s terminal `status` into its transaction (its webhook events), if anything. */
  terminalEvents(batch: BatchRecord, status: BatchStatus): WrittenAlongside | undefined {
    return this.#deps.terminalEvents?.(batch, status);
  }
}

function progressFields(batch: BatchRecord, progress: ProviderBatch): BatchPatch {
  return {
    rawStatus: progress.rawStatus,
    requestTotal: progress.requestCounts.total,
    requestCompleted: progress.requestCounts.completed,
    requestFailed: progress.requestCounts.failed,
    errors: progress.errors ?? batch.errors,
    inProgressAt: progress.inProgressAt ?? batch.inProgressAt,
    expiresAt: progress.expiresAt ?? batch.expiresAt,
    finalizingAt: progress.finalizingAt ?? batch.finalizingAt,
    cancellingAt: progress.cancellingAt ?? batch.cancellingAt,
    providerOutputFileId: progress.outputFileId ?? batch.providerOutputFileId,
    providerErrorFileId: progress.errorFileId ?? batch.providerErrorFileId,
  };
}

/** Every terminal status carries its own `*_at`; fill it in when the provider left it out. */
function terminalTimestamps(batch: BatchRecord, progress: ProviderBatch, now: number): BatchPatch {
  switch (progress.status) {
    case 'completed':
      return { completedAt: progress.completedAt ?? batch.completedAt ?? now, finalizingAt: progress.finalizingAt ?? batch.finalizingAt ?? now };
    case 'failed':
      return { failedAt: progress.failedAt ?? batch.failedAt ?? now };
    case 'expired':
      return { expiredAt: progress.expiredAt ?? batch.expiredAt ?? now };
    case 'cancelled':
      return { cancelledAt: progress.cancelledAt ?? batch.cancelledAt ?? now, cancellingAt: progress.cancellingAt ?? batch.cancellingAt ?? now };
    default:
      return {};
  }
}
