/**
 * Wiring of emulated batches into a gateway, in three steps:
 *
 * ```ts
 * const limiter = new InMemoryRateLimiter();                  // or a shared (Redis) RateLimiter
 * // Live requests must count against the same rpm/tpm counters: `liveTrafficMeter` (below) or,
 * // in the server, the live admission of `coordination/live-rate-limits.ts` (never both).
 * const meter = liveTrafficMeter(limiter);
 * const router = new Router(config, { onAttempt: (a) => { metrics.observeUpstreamAttempt(a); meter(a); } });
 * const emulated = emulatedBatchSupport(database, router);
 * const managed = await createManagedServices({ config, database, router, logger, extraExecutors: emulated.extraExecutors });
 * const engine = createBatchEngine({
 *   items: emulated.items, batches: managed.batchStore, router, logger, instanceId: managed.instanceId,
 *   limiter, liveTrafficShare: config.batch.liveTrafficShare,
 * });
 * engine.start();            // beside the batch poller, which moves emulated batches through their states
 * ...
 * await engine.stop();       // before closing the database: gives running lines back
 * ```
 */
import type { ManagedServicesInput } from '../managed/managed-services.ts';
import { EmulatedExecutor } from '../managed/batches/executors/emulated.ts';
import type { Router } from '../routing/router.ts';
import { BatchItemStore } from '../storage/batch-item-store.ts';
import type { Database } from '../storage/database.ts';

export interface EmulatedBatchSupport {
  /** The work items, shared by the executor and the engine. */
  readonly items: BatchItemStore;
  /** For `createManagedServices({ extraExecutors })`: adds the `emulated` executor. */
  readonly extraExecutors: NonNullable<ManagedServicesInput['extraExecutors']>;
}

export function emulatedBatchSupport(database: Database, router: Router): EmulatedBatchSupport {
  const items = new BatchItemStore(database);
  return {
    items,
    extraExecutors: ({ fileStore, batchStore, blobs }) => [new EmulatedExecutor({ router, items, batches: batchStore, files: fileStore, blobs })],
  };
}
