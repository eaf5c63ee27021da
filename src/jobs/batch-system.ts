/**
 * The one place that wires the batch system: the stores over the database, the blob store and
 * the executors (native file, native inline, native staged, emulated) in the managed services, the work items
 * shared by the emulated executor and the batch engine, and the engine itself with its prompt
 * hooks (a batch just started wakes the engines, and so does each chunk of its lines loaded
 * while it runs; a batch whose lines are all recorded is synced at once). The server (`server/start.ts`) and the tests (the engine harness, the engine child
 * process) build it here, so they run the same wiring:
 *
 * ```ts
 * const limiter = new InMemoryRateLimiter();                  // or a shared (Redis) RateLimiter
 * // Live requests must count against the same rpm/tpm counters: `liveTrafficMeter` or, in the
 * // server, the live admission of `coordination/live-rate-limits.ts` (never both).
 * const router = new Router(config, { onAttempt: liveTrafficMeter(limiter) });
 * const system = await createBatchSystem({ config, database, router, logger, engine: { limiter } });
 * const engine = system.newEngine();
 * engine.start();            // beside the batch poller, which moves emulated batches through their states
 * ...
 * await engine.stop();       // before closing the database: gives running lines back
 * ```
 */
import type { PorticoConfig } from '../config/types.ts';
import { EmulatedExecutor } from '../managed/batches/executors/emulated.ts';
import { createManagedServices, type ManagedServices, type ManagedServicesInput } from '../managed/managed-services.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { BatchItemStore } from '../storage/batch-item-store.ts';
import type { Database } from '../storage/database.ts';
import { createBatchEngine, type BatchEngine, type BatchEngineOptions } from './batch-engine.ts';

/** What an engine is given beyond the system's own parts (stores, router, logger). */
export type BatchEngineSettings = Partial<Omit<BatchEngineOptions, 'items' | 'batches' | 'router' | 'logger' | 'onBatchSettled'>>;

export interface BatchSystemInput {
  config: PorticoConfig;
  database: Database;
  router: Router;
  logger: Logger;
  /**
   * Settings of every engine (`newEngine` adds its own on top). Defaults: this process's
   * `instanceId`, and `live_traffic_share` and `lease_seconds` of `portico_settings.batch`.
   */
  engine?: BatchEngineSettings;
  /** The spend budgets a batch's create is held to: `model_max_budget` and the proxy's `max_budget` (the server's `ModelBudgets`, `ProxyBudget`). */
  checkSpendBudgets?: ManagedServicesInput['checkSpendBudgets'];
  /** The webhook outbox shared with the server's spend ledger (budget events); default: the managed services' own. */
  webhooks?: ManagedServicesInput['webhooks'];
}

export interface BatchSystem {
  readonly managed: ManagedServices;
  /** The work items of emulated batches, shared by the emulated executor and the engines. */
  readonly items: BatchItemStore;
  /**
   * An engine on the system's stores, with the settings of the input plus these: the server makes
   * one; tests make several (workers of one instance, or of several).
   */
  newEngine(settings?: BatchEngineSettings): BatchEngine;
}

export async function createBatchSystem(input: BatchSystemInput): Promise<BatchSystem> {
  const { config, database, router, logger } = input;
  const items = new BatchItemStore(database);
  const engines: BatchEngine[] = [];
  const managed = await createManagedServices({
    config,
    database,
    router,
    logger,
    ...(input.checkSpendBudgets !== undefined && { checkSpendBudgets: input.checkSpendBudgets }),
    ...(input.webhooks !== undefined && { webhooks: input.webhooks }),
    extraExecutors: ({ fileStore, batchStore, blobs }) => [
      // A batch runs while its lines load: each loaded chunk is news to an engine that ran out.
      new EmulatedExecutor({ router, items, batches: batchStore, files: fileStore, blobs, onLinesLoaded: (batchId) => engines.forEach((each) => each.linesLoaded(batchId)) }),
    ],
  });
  const newEngine = (settings: BatchEngineSettings = {}): BatchEngine => {
    const engine = createBatchEngine({
      instanceId: managed.instanceId,
      liveTrafficShare: config.batch.liveTrafficShare,
      ...(config.batch.leaseMs !== undefined && { leaseMs: config.batch.leaseMs }),
      ...input.engine,
      ...settings,
      items,
      batches: managed.batchStore,
      router,
      logger,
      onBatchSettled: (batchId) => managed.synchronizer.wantSync(batchId),
    });
    engines.push(engine);
    return engine;
  };
  // A batch the synchroniser just started runs at once, not at the engines' next look.
  managed.synchronizer.onStatusChange((batch) => {
    if (batch.status === 'in_progress' && batch.execution === 'emulated') for (const each of engines) each.wake();
  });
  return { managed, items, newEngine };
}
