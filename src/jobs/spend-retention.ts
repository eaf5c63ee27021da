/**
 * Deletes spend-ledger rows older than `maximum_spend_logs_retention_period`, in batches (a
 * bounded DELETE at a time, so neither database is held for long), on one instance at a time:
 * the sweep holds the `spend_logs_retention` lease (`job_leases`) while it runs.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import type { JobLeaseStore } from '../storage/job-lease-store.ts';
import type { SpendLogStore } from '../storage/spend-log-store.ts';
import { PeriodicJob } from './periodic-job.ts';

export const SPEND_RETENTION_LEASE = 'spend_logs_retention';
const ROWS_PER_DELETE = 1000;
const LEASE_MS = 60_000;

export interface SpendRetentionOptions {
  store: Pick<SpendLogStore, 'deleteOlderThan'>;
  leases: Pick<JobLeaseStore, 'tryAcquire' | 'release'>;
  retentionMs: number;
  intervalMs: number;
  logger: Logger;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** One sweep: answers the rows deleted (0 when another instance holds the lease). */
export async function sweepSpendLogs(options: SpendRetentionOptions, owner: string = randomUUID()): Promise<number> {
  const { store, leases, retentionMs } = options;
  if (!(await leases.tryAcquire(SPEND_RETENTION_LEASE, owner, LEASE_MS))) return 0;
  let deleted = 0;
  try {
    const cutoff = ((options.now ?? Date.now)() - retentionMs) / 1000;
    for (;;) {
      const batch = await store.deleteOlderThan(cutoff, ROWS_PER_DELETE);
      deleted += batch;
      if (batch < ROWS_PER_DELETE) break;
      // Renewed between batches: a long sweep keeps its lease.
      if (!(await leases.tryAcquire(SPEND_RETENTION_LEASE, owner, LEASE_MS))) break;
    }
  } finally {
    await leases.release(SPEND_RETENTION_LEASE, owner);
  }
  if (deleted > 0) options.logger.info({ deleted_rows: deleted }, 'spend ledger: rows past the retention period deleted');
  return deleted;
}

export function createSpendRetentionJob(options: SpendRetentionOptions): PeriodicJob {
  const owner = randomUUID();
  return new PeriodicJob('spend-retention', options.intervalMs, options.logger, async () => {
    await sweepSpendLogs(options, owner);
  });
}
