/**
 * Starting a batch without a crash window. The batch's row is written first, as an intent
 * (`creating`, leased to the creating request, invisible to clients), and only then is the
 * provider asked to create the batch, with Portico's id as a marker where the provider keeps one
 * (metadata on OpenAI and Azure). Every intent is settled exactly once:
 * - confirmed with the provider's batch when the create answered (`startedPatch`);
 * - dropped when the create certainly did not happen (a 4xx, a failure before the create);
 * - otherwise (the create timed out, or the instance died) never created again, but reconciled
 *   in the background by `reconcileIntent` once the creator's lease ran out: the provider's
 *   batch is adopted if it exists (found by the marker), else the batch is marked failed.
 * Nothing runs at a provider, billed to nobody, without a row; one request starts at most one
 * provider batch.
 */
import type { Logger } from '../../observability/logger.ts';
import { BatchStartUnconfirmedError } from '../../spec/errors.ts';
import { TERMINAL_BATCH_STATUSES } from '../../spec/openai-objects.ts';
import type { BatchPatch, BatchRecord, BatchStore } from '../../storage/batch-store.ts';
import { nowSeconds, unixSeconds } from '../../storage/row-mapping.ts';
import type { StartedBatch } from './batch-executor.ts';
import { nextSyncDelaySeconds, type BatchSynchronizer } from './batch-sync.ts';
import { metadataWithWarnings } from './batch-warnings.ts';

/**
 * How long a creating request holds its intent without renewal (renewed every third of it): an
 * instance that died mid-create lets the reconciler settle its intent after this.
 */
export const INTENT_LEASE_MS = 15_000;

export interface IntentDeps {
  batches: BatchStore;
  sync: BatchSynchronizer;
  logger: Logger;
}

/** Runs `work` while renewing the lease `owner` holds on intent `batchId`. */
export async function holdingIntent<T>(batches: BatchStore, batchId: string, owner: string, work: () => Promise<T>): Promise<T> {
  const renewal = setInterval(() => void batches.renewLease(batchId, owner, INTENT_LEASE_MS).catch(() => undefined), INTENT_LEASE_MS / 3);
  renewal.unref();
  try {
    return await work();
  } finally {
    clearInterval(renewal);
  }
}

/**
 * What a started batch adds to its intent: the provider's id and first state, its first sync, and
 * what the translation of its lines changed (`batch-warnings.ts`).
 */
export function startedPatch(started: StartedBatch, batch: Pick<BatchRecord, 'createdAt' | 'execution' | 'metadata'>): BatchPatch {
  const progress = started.progress;
  const metadata = metadataWithWarnings(batch.metadata, started.warnings);
  const status = progress?.status ?? 'validating';
  // A provider that already reports an end (a failed validation) is finalised by the first sync.
  const terminal = TERMINAL_BATCH_STATUSES.has(status);
  return {
    providerBatchId: started.providerBatchId,
    status: terminal ? 'validating' : status,
    rawStatus: progress?.rawStatus ?? null,
    requestTotal: progress?.requestCounts.total ?? 0,
    requestCompleted: progress?.requestCounts.completed ?? 0,
    requestFailed: progress?.requestCounts.failed ?? 0,
    inProgressAt: progress?.inProgressAt ?? null,
    lastSyncedAt: nowSeconds(),
    nextSyncAt: nowSeconds() + (terminal ? 0 : nextSyncDelaySeconds({ createdAt: batch.createdAt, syncFailures: 0, execution: batch.execution, status: terminal ? 'validating' : status })),
    ...(metadata === undefined ? {} : { metadata }),
    ...(started.partStates === undefined ? {} : { partStates: started.partStates }),
  };
}

/**
 * Settles an intent whose creator is gone (or could not tell whether its create happened), under
 * the lease `owner` took (`BatchStore.takeIntent`). Answers what became of it; `retry` when the
 * provider could not be asked now (the lease runs out and the intent is tried again).
 */
export async function reconcileIntent(deps: IntentDeps, intent: BatchRecord, owner: string): Promise<'adopted' | 'failed' | 'retry'> {
  const { batches, logger } = deps;
  const executor = deps.sync.executorFor(intent);
  let started: StartedBatch | null = null;
  // The engine's batches start nowhere else; other providers without a marker cannot be asked.
  let unknowable = executor.findStarted === undefined && intent.execution !== 'emulated';
  if (executor.findStarted) {
    try {
      started = await executor.findStarted(intent, {});
    } catch (error) {
      if (!(error instanceof BatchStartUnconfirmedError)) {
        logger.warn({ batch_id: intent.id, err: error instanceof Error ? error.message : String(error) }, 'could not look for the provider batch of an unfinished create; will retry');
        return 'retry';
      }
      unknowable = true;
    }
  }
  if (started) {
    await batches.settleIntent(intent.id, owner, startedPatch(started, intent), { requireActiveInput: false });
    logger.info({ batch_id: intent.id, deployment_id: intent.deploymentId }, 'adopted the provider batch of an unfinished create');
    return 'adopted';
  }
  if (unknowable) {
    logger.warn({ batch_id: intent.id, deployment_id: intent.deploymentId }, 'an unfinished create cannot be checked at its provider: a provider batch may exist that Portico does not track');
  }
  const now = unixSeconds();
  await batches.settleIntent(
    intent.id,
    owner,
    {
      status: 'failed',
      failedAt: now,
      nextSyncAt: null,
      errors: [{ code: 'batch_not_started', message: 'The batch was not started: its creation was interrupted before the provider confirmed it.', param: null, line: null }],
    },
    { requireActiveInput: false, alongside: deps.sync.terminalEvents(intent, 'failed') },
  );
  return 'failed';
}
