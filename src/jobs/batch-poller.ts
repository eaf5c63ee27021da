/**
 * Keeps running batches current even when no client polls: leases due batches through the
 * database (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so across several instances each batch is
 * refreshed by one at a time, and syncs them with a small concurrency.
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

export function createBatchPoller(options: BatchPollerOptions): PeriodicJob {
  const concurrency = options.concurrency ?? 4;
  return new PeriodicJob('batch-poller', options.intervalMs ?? 1000, options.logger, async () => {
    const owner = options.synchronizer.newLeaseOwner();
    const due = await options.batches.leaseDueBatches(owner, concurrency, SYNC_LEASE_MS);
    await Promise.all(due.map((batch) => options.synchronizer.syncLeased(batch, owner)));
    // A full page means more are due: run again without waiting for the interval.
    return due.length === concurrency;
  });
}
