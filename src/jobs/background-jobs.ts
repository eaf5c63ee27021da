/**
 * The background work of one Portico instance: the batch poller, the file janitor and the batch
 * reconciler (and the batch engine, when configured). All of it is leased or idempotent through
 * the database, so every instance runs the same set.
 */
import type { PorticoConfig } from '../config/types.ts';
import type { ManagedServices } from '../managed/managed-services.ts';
import type { Logger } from '../observability/logger.ts';
import type { NoticeChannel } from '../spec/notice-channel.ts';
import { createBatchPoller } from './batch-poller.ts';
import { createBatchQuotaStarter } from './batch-quota-starter.ts';
import { createBatchReconciler } from './batch-reconciler.ts';
import { createFileJanitor } from './file-janitor.ts';
import type { PeriodicJob } from './periodic-job.ts';
import { createWebhookDelivery, type WebhookDeliveryJob } from './webhook-delivery.ts';

export interface BackgroundJob {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  /** One pass now (tests). */
  runOnce(): Promise<void>;
}

export interface BackgroundJobs {
  readonly poller: PeriodicJob;
  readonly janitor: PeriodicJob;
  /** Settles batches whose create was interrupted. */
  readonly reconciler: PeriodicJob;
  /** Starts batches that waited for their deployment's enqueued-token quota. */
  readonly quotaStarter: PeriodicJob;
  /** Delivers the webhook outbox (idle without endpoints). */
  readonly webhooks: WebhookDeliveryJob;
  readonly all: readonly BackgroundJob[];
  start(): void;
  stop(): Promise<void>;
}

export interface BackgroundJobsOptions {
  /** Released batch quota told across instances and workers (`SharedState.quotaReleases`). */
  quotaReleases?: NoticeChannel;
}

export function createBackgroundJobs(config: PorticoConfig, managed: ManagedServices, logger: Logger, extra: readonly BackgroundJob[] = [], options: BackgroundJobsOptions = {}): BackgroundJobs {
  const poller = createBatchPoller({ batches: managed.batchStore, synchronizer: managed.synchronizer, logger, intervalMs: config.batch.pollIntervalMs });
  const janitor = createFileJanitor(managed.deletion, logger, undefined, { uploads: managed.uploadStore });
  const reconciler = createBatchReconciler({ batches: managed.batchStore, synchronizer: managed.synchronizer, logger });
  const quotaStarter = createBatchQuotaStarter({ batches: managed.batchStore, service: managed.batches, synchronizer: managed.synchronizer, router: managed.router, logger, intervalMs: config.batch.pollIntervalMs, releases: options.quotaReleases });
  const webhooks = createWebhookDelivery({ store: managed.webhookStore, settings: config.webhooks, logger, instanceId: managed.instanceId });
  managed.webhooks.onWritten(() => webhooks.wake());
  const all: BackgroundJob[] = [poller, janitor, reconciler, quotaStarter, ...(config.webhooks.endpoints.length > 0 ? [webhooks] : []), ...extra];
  return {
    poller,
    janitor,
    reconciler,
    quotaStarter,
    webhooks,
    all,
    start: () => all.forEach((job) => job.start()),
    stop: async () => {
      await Promise.all(all.map((job) => job.stop()));
    },
  };
}
