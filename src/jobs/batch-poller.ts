/**
 * Keeps running batches current even when no client polls: leases due batches through the
 * database (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so across several instances each batch is
 * refreshed by one at a time, and syncs them with a small concurrency.
 *
 * Batches asked for by `BatchSynchronizer.wantSync` (just created, or their last line recorded)
 * are synced at once, ahead of the due ones; one whose lease another sync holds (a client's
 * retrieve, the sync loading its lines) is asked for again after 25, 50, then 100 ms, a few times
 * at most: that sync may have read it before the change, and those syncs last milliseconds, while
 * the poller's own cadence (a second by default) decided when a batch whose last line was just
 * recorded was seen completed.
 */
import type { Logger } from '../observability/logger.ts';
import type { BatchStore } from '../storage/batch-store.ts';
import type { BatchSynchronizer } from '../managed/batches/batch-sync.ts';
import { SYNC_LEASE_MS } from '../managed/batches/batch-sync.ts';
import { PeriodicJob } from './periodic-job.ts';

export interface BatchPollerOptions {
  batches: BatchStore;
  synchronizer: BatchSynchronizer;
  logger: Logger;
  intervalMs?: number;
  /** Batches synced at once by this instance. */
  concurrency?: number;
}

/**
 * Pauses before asking again for a wanted batch whose lease another sync held, ms: the syncs that
 * hold it (a client's retrieve, a refresh) mostly last milliseconds.
 */
const WANTED_RETRY_MS = [25, 50, 100] as const;
/** Then it is asked for at the poller's next turns, a few times (a sync loading or finalising a large batch lasts longer). */
const WANTED_TICK_RETRIES = 4;
/** Wanted batches remembered at most (beyond, they wait for their due time). */
const MAX_WANTED = 1000;

export function createBatchPoller(options: BatchPollerOptions): PeriodicJob {
  const concurrency = options.concurrency ?? 4;
  const { synchronizer } = options;
  /** Batch id -> tries made so far. */
  const wanted = new Map<string, number>();
  /** Batch id -> tries made so far, for batches waiting out a retry pause. */
  const pausing = new Map<string, number>();
  const askAgain = (id: string, tries: number) => {
    if (wanted.has(id) || pausing.has(id)) return;
    if (tries > WANTED_RETRY_MS.length) {
      if (tries <= WANTED_RETRY_MS.length + WANTED_TICK_RETRIES) wanted.set(id, tries);
      return;
    }
    pausing.set(id, tries);
    const timer = setTimeout(() => {
      const made = pausing.get(id);
      pausing.delete(id);
      if (made === undefined || wanted.has(id)) return;
      wanted.set(id, made);
      job.wake();
    }, WANTED_RETRY_MS[tries - 1]);
    timer.unref();
  };
  const job = new PeriodicJob('batch-poller', options.intervalMs ?? 1000, options.logger, async () => {
    const asked = [...wanted.entries()].slice(0, concurrency);
    for (const [id] of asked) wanted.delete(id);
    await Promise.all(
      asked.map(async ([id, triesMade]) => {
        const synced = await synchronizer.syncIfFree(id).catch((error: unknown) => {
          options.logger.warn({ batch_id: id, err: error instanceof Error ? error.message : String(error) }, 'batch sync asked for failed; it runs when due');
          return true;
        });
        if (!synced) askAgain(id, triesMade + 1);
      }),
    );
    const owner = synchronizer.newLeaseOwner();
    const due = await options.batches.leaseDueBatches(owner, concurrency, SYNC_LEASE_MS);
    await Promise.all(due.map((batch) => synchronizer.syncLeased(batch, owner)));
    // A full page means more are due: run again without waiting for the interval.
    return due.length === concurrency || asked.length === concurrency;
  });
  synchronizer.onSyncWanted((batchId) => {
    if (wanted.size >= MAX_WANTED && !wanted.has(batchId)) return;
    wanted.set(batchId, 0);
    pausing.delete(batchId);
    job.wake();
  });
  return job;
}
