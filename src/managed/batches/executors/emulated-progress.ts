/**
 * The state of an emulated batch, computed from its work items (pure):
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> validating: created (lines not yet loaded)
 *   validating --> in_progress: first lines loaded as items (the rest load while they run)
 *   in_progress --> finalizing: every item settled
 *   finalizing --> completed: next refresh (the synchroniser writes the files first)
 *   validating --> cancelling: cancel
 *   in_progress --> cancelling: cancel (pending items -> cancelled)
 *   cancelling --> cancelled: running items finished
 *   in_progress --> expired: 24 h window passed (pending -> expired) and running items finished
 *   validating --> failed: input file unreadable
 * ```
 *
 * `request_counts`: total = every item (every line of the file while they are still loading);
 * completed = succeeded; failed = failed + cancelled + expired (what lands in the error file),
 * as WIRE.md §4.3 maps Anthropic's counts. A batch whose lines are still loading is never done:
 * its loaded lines may all be finished while the rest are not in yet.
 */
import type { BatchErrorItem, BatchStatus } from '../../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../../spec/provider.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import type { BatchItemState } from '../../../storage/batch-item-store.ts';

export type ItemCounts = Record<BatchItemState, number>;

export interface EmulatedSituation {
  /** The batch as stored now. */
  batch: BatchRecord;
  counts: ItemCounts;
  /** A cancel was asked for (stored status, `cancelling_at`, or items already cancelled). */
  cancelRequested: boolean;
  /** The lines are loaded as items (false only while still validating). */
  loaded: boolean;
  /**
   * Set while the file's lines are still being loaded: how many it has. The batch runs the lines
   * already in, and its total is the file's from the first `in_progress` a client sees.
   */
  loadingTotal?: number;
  /** Set when the batch cannot run at all (input unreadable). */
  failure?: BatchErrorItem;
}

export function emulatedStatus(situation: EmulatedSituation): BatchStatus {
  const { batch, counts, cancelRequested, loaded } = situation;
  if (situation.failure) return 'failed';
  // Lines still to load are as unfinished as pending ones.
  const active = counts.pending + counts.running > 0 || situation.loadingTotal !== undefined;
  if (cancelRequested) return active ? 'cancelling' : 'cancelled';
  if (!loaded) return 'validating';
  if (active) return 'in_progress';
  if (counts.expired > 0) return 'expired';
  // One refresh shows `finalizing` before the end, so the state walks OpenAI's lifecycle.
  return batch.status === 'finalizing' ? 'completed' : 'finalizing';
}

export function emulatedProgress(situation: EmulatedSituation, now: number): ProviderBatch {
  const { batch, counts } = situation;
  const status = emulatedStatus(situation);
  const started = status !== 'validating' && status !== 'failed' && situation.loaded;
  const finalising = status === 'finalizing' || status === 'completed';
  return {
    id: batch.id,
    status,
    rawStatus: `engine:${status}`,
    outputFileId: null,
    errorFileId: null,
    createdAt: batch.createdAt,
    inProgressAt: batch.inProgressAt ?? (started ? now : null),
    expiresAt: batch.expiresAt,
    finalizingAt: finalising ? (batch.finalizingAt ?? now) : batch.finalizingAt,
    completedAt: status === 'completed' ? now : null,
    failedAt: status === 'failed' ? now : null,
    expiredAt: status === 'expired' ? now : null,
    cancellingAt: status === 'cancelling' || status === 'cancelled' ? (batch.cancellingAt ?? now) : batch.cancellingAt,
    cancelledAt: status === 'cancelled' ? now : null,
    requestCounts: {
      total: Math.max(itemCount(counts), situation.loadingTotal ?? 0),
      completed: counts.succeeded,
      failed: counts.failed + counts.cancelled + counts.expired,
    },
    // Summed from the output lines while the finalisation writes them (`materialiseResults`).
    usage: null,
    errors: situation.failure ? [situation.failure] : null,
  };
}

/** Items of the batch in any state. */
export function itemCount(counts: ItemCounts): number {
  return counts.pending + counts.running + counts.succeeded + counts.failed + counts.cancelled + counts.expired;
}
