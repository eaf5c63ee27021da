/**
 * Settles batches whose create was interrupted (`managed/batches/batch-intents.ts`): an intent
 * whose creating request or instance died, or could not tell whether the provider created the
 * batch, is taken by one instance (a compare-and-set on its expired lease) and adopted (the
 * provider's batch, found by Portico's marker) or marked failed. Leased, so every instance runs it.
 */
import { INTENT_LEASE_MS, reconcileIntent } from '../managed/batches/batch-intents.ts';
import type { BatchSynchronizer } from '../managed/batches/batch-sync.ts';
import type { Logger } from '../observability/logger.ts';
import type { BatchStore } from '../storage/batch-store.ts';
import { PeriodicJob } from './periodic-job.ts';

export interface BatchReconcilerOptions {
  batches: BatchStore;
  synchronizer: BatchSynchronizer;
  logger: Logger;
  intervalMs?: number;
}

export function createBatchReconciler(options: BatchReconcilerOptions): PeriodicJob {
  const { batches, synchronizer, logger } = options;
  return new PeriodicJob('batch-reconciler', options.intervalMs ?? 5000, logger, async () => {
    for (const intent of await batches.listStuckIntents()) {
      const owner = synchronizer.newLeaseOwner();
      if (!(await batches.takeIntent(intent.id, owner, INTENT_LEASE_MS))) continue;
      await reconcileIntent({ batches, sync: synchronizer, logger }, intent, owner);
    }
  });
}
