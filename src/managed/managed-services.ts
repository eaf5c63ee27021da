/**
 * Builds the managed Files/Batches services from the gateway's parts: stores over the one
 * database, the local blob store, the executors (chosen per deployment by capability) and the
 * synchroniser shared by retrieves and the background poller.
 */
import { WebhookStore } from '../storage/webhook-store.ts';
import { WebhookOutbox } from '../webhooks/webhook-outbox.ts';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FilesSettings, PorticoConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { ConfigError } from '../spec/errors.ts';
import { BatchStore } from '../storage/batch-store.ts';
import { LocalBlobStore, type BlobStore } from '../storage/blob-store.ts';
import type { Database } from '../storage/database.ts';
import { DatabaseBlobStore } from '../storage/database-blob-store.ts';
import { FileStore } from '../storage/file-store.ts';
import type { BatchExecutor } from './batches/batch-executor.ts';
import { BatchService, type BatchServiceDeps } from './batches/batch-service.ts';
import { BatchSynchronizer } from './batches/batch-sync.ts';
import { NativeFileExecutor } from './batches/executors/native-file.ts';
import { NativeStagedExecutor } from './batches/executors/native-staged.ts';
import type { FileDeletionDeps } from './files/file-deletion.ts';
import { FileService } from './files/file-service.ts';
import { UploadService } from './files/upload-service.ts';
import { FileReferences } from './files/file-references.ts';
import { UploadStore } from '../storage/upload-store.ts';

export interface ManagedServices {
  readonly files: FileService;
  /** OpenAI's Uploads API: files sent in parts (`files/upload-service.ts`). */
  readonly uploads: UploadService;
  readonly uploadStore: UploadStore;
  /** Model requests naming the caller's files by id get their bytes inline (`files/file-references.ts`). */
  readonly fileReferences: FileReferences;
  readonly batches: BatchService;
  readonly synchronizer: BatchSynchronizer;
  readonly fileStore: FileStore;
  readonly batchStore: BatchStore;
  readonly blobs: BlobStore;
  readonly deletion: FileDeletionDeps;
  /** This process, in lease owners. */
  readonly instanceId: string;
  /** Events for webhooks (`batch.completed`, ...), written where they happen. */
  readonly webhooks: WebhookOutbox;
  /** The outbox's rows, delivered by the webhook delivery job. */
  readonly webhookStore: WebhookStore;
  /** The router the services run on (the quota starter reads deployments' quotas from it). */
  readonly router: Router;
}

export interface ManagedServicesInput {
  config: PorticoConfig;
  database: Database;
  router: Router;
  logger: Logger;
  /** `model_max_budget` of the caller's key, user and team and the proxy's `max_budget`, checked at a batch's create. */
  checkSpendBudgets?: BatchServiceDeps['checkSpendBudgets'];
  /** Executors beyond the native ones (the batch engine adds itself here). */
  extraExecutors?: (parts: { fileStore: FileStore; batchStore: BatchStore; blobs: BlobStore; instanceId: string }) => BatchExecutor[];
  /** The webhook outbox, when the caller's spend ledger writes to it too; default: one of its own. */
  webhooks?: WebhookOutbox;
}

/**
 * `database` keeps file bytes in PostgreSQL, so instances share nothing but the database. It is
 * refused on SQLite, which serves a single instance: there a directory is simpler and faster, and
 * keeps gigabytes of file bytes out of the one database file. `s3` and `azure_blob` keep them in
 * a bucket or container; their SDKs are loaded only when chosen (they take a while to load).
 */
async function blobStoreFor(settings: FilesSettings, database: Database): Promise<BlobStore> {
  switch (settings.blobStore) {
    case 'directory':
      return new LocalBlobStore(settings.storageDir);
    case 'database':
      if (database.dialect !== 'postgres') {
        throw new ConfigError('portico_settings.files.blob_store: "database" needs PostgreSQL (DATABASE_URL=postgres://...); with SQLite use "directory".');
      }
      return new DatabaseBlobStore(database);
    case 's3': {
      const s3 = settings.s3!;
      const { S3BlobStore } = await import('../storage/s3-blob-store.ts');
      return new S3BlobStore({
        bucket: s3.bucket,
        prefix: s3.prefix,
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: s3.forcePathStyle,
        ...(s3.accessKeyId !== undefined && s3.secretAccessKey !== undefined && { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }),
        partBytes: s3.partBytes,
        queueSize: s3.queueSize,
      });
    }
    case 'azure_blob': {
      const azure = settings.azureBlob!;
      const { AzureBlobStore } = await import('../storage/azure-blob-store.ts');
      const auth =
        azure.connectionString !== undefined
          ? { connectionString: azure.connectionString }
          : azure.sasToken !== undefined
            ? { accountUrl: azure.accountUrl!, sasToken: azure.sasToken }
            : { accountUrl: azure.accountUrl!, accountName: azure.accountName!, accountKey: azure.accountKey! };
      return new AzureBlobStore({ auth, container: azure.container, prefix: azure.prefix, blockBytes: azure.blockBytes, concurrency: azure.concurrency });
    }
  }
}

export function newInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function createManagedServices(input: ManagedServicesInput): Promise<ManagedServices> {
  const { config, database, router, logger } = input;
  const instanceId = newInstanceId();
  const fileStore = new FileStore(database);
  const webhookStore = new WebhookStore(database);
  const webhooks = input.webhooks ?? new WebhookOutbox(webhookStore, config.webhooks);
  const budgetEvents = webhooks.budgetEvents;
  const batchStore = new BatchStore(database, budgetEvents === undefined ? {} : { budgetEvents });
  const blobs = await blobStoreFor(config.files, database);
  const deletion: FileDeletionDeps = { router, files: fileStore, blobs, logger, retryBaseSeconds: config.files.deleteRetryBaseSeconds };
  const executors: BatchExecutor[] = [
    new NativeFileExecutor({ router, files: fileStore, blobs, deletion }),
    new NativeStagedExecutor({ router, blobs, files: fileStore, batches: batchStore }),
    ...(input.extraExecutors?.({ fileStore, batchStore, blobs, instanceId }) ?? []),
  ];
  const synchronizer = new BatchSynchronizer({
    router,
    batches: batchStore,
    blobs,
    executors,
    files: config.files,
    logger,
    instanceId,
    ...(webhooks.enabled && { terminalEvents: (batch, status) => webhooks.batchEnded(batch, status) }),
  });
  const files = new FileService({ router, files: fileStore, blobs, settings: config.files, logger, deletion });
  const batches = new BatchService({ router, batches: batchStore, files, executors, sync: synchronizer, logger, refreshAfterSeconds: config.batch.refreshAfterSeconds,
    reservations: { estimatedOutputTokens: config.batch.estimatedOutputTokens, quotaExceeded: config.batch.quotaExceeded },
    ...(input.checkSpendBudgets !== undefined && { checkSpendBudgets: input.checkSpendBudgets }),
  });
  const uploadStore = new UploadStore(database);
  const uploads = new UploadService({ uploads: uploadStore, blobs, files, settings: config.files });
  const fileReferences = new FileReferences({ files: fileStore, blobs });
  return { files, uploads, uploadStore, fileReferences, batches, synchronizer, fileStore, batchStore, blobs, deletion, instanceId, webhooks, webhookStore, router };
}
