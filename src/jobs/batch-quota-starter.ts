/**
 * Starts batches that wait for room in their deployment's enqueued-token quota
 * (`batch_max_enqueued_tokens` with `portico_settings.batch.quota_exceeded: wait`), oldest first,
 * as the batches holding the quota end and release their tokens. Every instance runs it: taking a
 * waiting batch is one transaction under the deployment's quota lock that turns it into an intent
 * leased to this instance (`BatchStore.startWaitingBatches`), so a batch is started once; one
 * whose starter died is settled by the reconciler like any interrupted create. Waiting batches
 * cancelled or past their window are ended by their sync (`managed/batches/batch-sync.ts`).
 *
 * Woken as soon as a hold is released on a deployment with a quota: by this process's batch store
 * at once (`BatchStore.onHoldReleased`), and on every other instance or worker through `releases`
 * (Redis pub/sub, or the primary's IPC for workers without Redis). The poll stays the fallback:
 * the database is the truth, and a lost notice only delays a start to the next tick.
 */
import { INTENT_LEASE_MS } from '../managed/batches/batch-intents.ts';
import type { BatchService } from '../managed/batches/batch-service.ts';
import type { BatchSynchronizer } from '../managed/batches/batch-sync.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import type { NoticeChannel } from '../spec/notice-channel.ts';
import type { BatchStore } from '../storage/batch-store.ts';
import { PeriodicJob } from './periodic-job.ts';

export interface BatchQuotaStarterOptions {
  batches: BatchStore;
  service: Pick<BatchService, 'startWaiting'>;
  synchronizer: Pick<BatchSynchronizer, 'newLeaseOwner'>;
  router: Pick<Router, 'deployment'>;
  logger: Logger;
  intervalMs?: number;
  /** Released quota told to and heard from the other instances and workers; absent: this process only. */
  releases?: NoticeChannel;
}

export function createBatchQuotaStarter(options: BatchQuotaStarterOptions): PeriodicJob {
  const { batches, service, synchronizer, router, logger, releases } = options;
  const job = new PeriodicJob('batch-quota-starter', options.intervalMs ?? 1000, logger, async () => {
    for (const deploymentId of await batches.deploymentsWithWaitingBatches()) {
      // A deployment no longer configured, or without a quota now, holds nothing back.
      const limit = router.deployment(deploymentId)?.batchMaxEnqueuedTokens;
      const owner = synchronizer.newLeaseOwner();
      const started = await batches.startWaitingBatches(deploymentId, limit, owner, INTENT_LEASE_MS);
      for (const batch of started) {
        logger.info({ batch_id: batch.id, deployment_id: deploymentId }, 'starting a batch that waited for its deployment\'s enqueued-token quota');
        await service.startWaiting(batch, owner);
      }
    }
  });
  batches.onHoldReleased((deploymentId) => {
    // Only a deployment with a quota holds batches back; the rest end without a word.
    if (router.deployment(deploymentId)?.batchMaxEnqueuedTokens === undefined) return;
    job.wake();
    void releases?.publish([deploymentId]);
  });
  // Any deployment's: the tick looks at every deployment with waiting batches.
  releases?.subscribe(() => job.wake());
  return job;
}
