/**
 * Keeps running batches current even when no client polls: leases due batches through the
 * database (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so across several instances each batch is
 * refreshed by one at a time, and syncs them with a small concurrency.
 *
 * Batches asked for by `BatchSynchronizer.wantSync` (just created, or their last line recorded)
 * are synced at once, ahead of the due ones; one whose lease another sync holds is asked for
 * again at the next turns (that sync may have read it before the change), a few times at most.
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

/** Turns a wanted batch is tried while another sync holds its lease. */
const WANTED_TRIES = 5;
/** Wanted batches remembered at most (beyond, they wait for their due time). */
const MAX_WANTED = 1000;

export function createBatchPoller(options: BatchPollerOptions): PeriodicJob {
  const concurrency = options.concurrency ?? 4;
  const { synchronizer } = options;
  /** Batch id -> tries left. */
  const wanted = new Map<string, number>();
  const job = new PeriodicJob('batch-poller', options.intervalMs ?? 1000, options.logger, async () => {
    const asked = [...wanted.entries()].slice(0, concurrency);
    for (const [id] of asked) wanted.delete(id);
    await Promise.all(
      asked.map(async ([id, triesLeft]) => {
        const synced = await synchronizer.syncIfFree(id).catch((error: unknown) => {
          options.logger.warn({ batch_id: id, err: error instanceof Error ? error.message : String(error) }, 'batch sync asked for failed; it runs when due');
          return true;
        });
        if (!synced && triesLeft > 1 && !wanted.has(id)) wanted.set(id, triesLeft - 1);
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
    wanted.set(batchId, WANTED_TRIES);
    job.wake();
  });
  return job;
}
