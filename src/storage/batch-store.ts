/**
 * Gateway batches: the one source of truth for a batch's state, plus the leases through which
 * one poller at a time (across every instance) refreshes a batch.
 *
 * Times: OpenAI-visible `*_at` fields are whole unix seconds; `nextSyncAt`, `lastSyncedAt` and
 * `leaseExpiresAt` are unix seconds with a fraction (`nowSeconds()`).
 */
import { SpendLogStore, type SpendLogRow } from './spend-log-store.ts';
import type { Insertable, Kysely, QueryCreator, Selectable, Transaction, Updateable } from 'kysely';
import { AuthenticationError, NotFoundError } from '../spec/errors.ts';
import { TERMINAL_BATCH_STATUSES, type BatchErrorItem, type BatchStatus, type BatchUsage } from '../spec/openai-objects.ts';
import type { Database } from './database.ts';
import { executeWriteOffLoop } from './off-loop-statement.ts';
import { insertCopyRow, insertFileRow, type NewFile, type NewFileCopy } from './file-store.ts';
import { toPage, type Page } from './page.ts';
import { affectedRows, nowSeconds, parseJsonText, toNullableJsonText, unixSeconds } from './row-mapping.ts';
import type { BatchesTable, DatabaseSchema } from './schema.ts';
import type { WrittenAlongside } from './written-alongside.ts';
import { enqueuedTokens, lockDeploymentQuota, placeHold, releaseHold, type HoldRequest, type HoldState } from './batch-hold-store.ts';
import { addSubjectSpend, writeCrossingEvents, type BudgetCrossingEvents } from './budget-crossings.ts';

/**
 * How a batch runs: a provider's file-based batch API, a batch the provider staged, or our
 * engine. `native_inline` is what staged batches were stored as before issue 11 (still read).
 */
export type BatchExecution = 'native_file' | 'native_inline' | 'native_staged' | 'emulated';

export interface BatchRecord {
  /** Gateway id, `batch_...`. */
  id: string;
  owner: string;
  /** The virtual key whose spend the batch's cost is added to; null for the master key. */
  keyId: string | null;
  endpoint: string;
  completionWindow: string;
  modelGroup: string;
  deploymentId: string | null;
  execution: BatchExecution;
  providerBatchId: string | null;
  /**
   * What each part of a staged batch keeps between looks (`ProviderBatch.partState`), one entry
   * per id of `providerBatchId`, in order; null when none keeps anything.
   */
  partStates: (string | null)[] | null;
  inputFileId: string;
  /** Gateway file ids; set once, by `registerResultFiles`. */
  outputFileId: string | null;
  errorFileId: string | null;
  providerOutputFileId: string | null;
  providerErrorFileId: string | null;
  status: BatchStatus;
  /** The provider's own status word, for diagnostics. */
  rawStatus: string | null;
  errors: BatchErrorItem[] | null;
  metadata: Record<string, string> | null;
  outputExpiresAfterSeconds: number | null;
  requestTotal: number;
  requestCompleted: number;
  requestFailed: number;
  usage: BatchUsage | null;
  createdAt: number;
  inProgressAt: number | null;
  expiresAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  lastSyncedAt: number | null;
  /** When the poller should next refresh the batch; null = not scheduled. */
  nextSyncAt: number | null;
  syncFailures: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** Set once, by `recordCostOnce`. */
  cost: number | null;
  costRecordedAt: number | null;
  /**
   * True while the row only records the intent to create a provider batch (`insertIntent`), until
   * the create is confirmed or settled (`settleIntent`). Clients never see such a row.
   */
  creating: boolean;
  /**
   * True while the batch waits for room in its deployment's enqueued-token quota
   * (`portico_settings.batch.quota_exceeded: wait`): it shows `validating`, nothing exists at its
   * provider yet, and the quota starter (`jobs/batch-quota-starter.ts`) starts it.
   */
  waitingForQuota: boolean;
}

/** A finished batch's spend-ledger row, less what `recordCostOnce` fills in itself. */
export type BatchLedgerRow = Omit<SpendLogRow, 'keyId' | 'userId' | 'teamId' | 'spend' | 'batchId'>;

/** Written only by dedicated methods (registration, cost, leases), never by a plain patch. */
type GuardedField = 'outputFileId' | 'errorFileId' | 'leaseOwner' | 'leaseExpiresAt' | 'cost' | 'costRecordedAt' | 'creating' | 'waitingForQuota';
type RequiredOnInsert = 'id' | 'owner' | 'endpoint' | 'completionWindow' | 'modelGroup' | 'execution' | 'inputFileId' | 'status' | 'createdAt';

export type NewBatch = Pick<BatchRecord, RequiredOnInsert> & Partial<Omit<BatchRecord, RequiredOnInsert | GuardedField>>;
export type BatchPatch = Partial<Omit<BatchRecord, 'id' | 'owner' | 'inputFileId' | 'createdAt' | GuardedField>>;

export interface BatchUpdateGuard {
  /** Apply only while the batch is in (one of) these statuses: compare-and-set. */
  expectedStatus?: BatchStatus | readonly BatchStatus[];
  /** Apply only while this owner holds the batch's lease. */
  leaseOwner?: string;
  /**
   * A cancel recorded meanwhile stays: a non-terminal status in the patch leaves `cancelling` as
   * it is, and its `cancellingAt` does not replace one already set. For reports computed from a
   * read taken before a cancel could land (a sync's progress).
   */
  keepCancel?: boolean;
}

export interface BatchListOptions {
  /** Only this owner's batches; omit for every owner (master key). */
  owner?: string;
  /** A batch id: the page starts strictly after it (newest first). */
  after?: string;
  limit: number;
  /** Only batches of these model groups (LiteLLM's `target_model_names`). */
  modelGroups?: readonly string[];
}

/** An output or error file to register for a batch. Owner and batch link come from the batch. */
export interface ResultFileRegistration {
  file: Omit<NewFile, 'owner' | 'batchId' | 'purpose'> & { purpose?: string };
  /** Provider copies of the file (a native batch's output lives at the provider). */
  copies?: readonly Omit<NewFileCopy, 'fileId'>[];
}

export interface RegisteredResultFiles {
  /** The batch's output and error file ids after the call: this caller's or an earlier winner's. */
  outputFileId: string | null;
  errorFileId: string | null;
  /** Whether this call registered the output (error) file; false = someone else had (clean up). */
  registeredOutput: boolean;
  registeredError: boolean;
}

const TERMINAL = [...TERMINAL_BATCH_STATUSES];

/** camelCase field -> column, for every field a patch or insert may carry. */
const COLUMNS = {
  id: 'id',
  owner: 'owner',
  keyId: 'key_id',
  endpoint: 'endpoint',
  completionWindow: 'completion_window',
  modelGroup: 'model_group',
  deploymentId: 'deployment_id',
  execution: 'execution',
  providerBatchId: 'provider_batch_id',
  partStates: 'part_states',
  inputFileId: 'input_file_id',
  outputFileId: 'output_file_id',
  errorFileId: 'error_file_id',
  providerOutputFileId: 'provider_output_file_id',
  providerErrorFileId: 'provider_error_file_id',
  status: 'status',
  rawStatus: 'raw_status',
  errors: 'errors',
  metadata: 'metadata',
  outputExpiresAfterSeconds: 'output_expires_after_seconds',
  requestTotal: 'request_total',
  requestCompleted: 'request_completed',
  requestFailed: 'request_failed',
  usage: 'usage',
  createdAt: 'created_at',
  inProgressAt: 'in_progress_at',
  expiresAt: 'expires_at',
  finalizingAt: 'finalizing_at',
  completedAt: 'completed_at',
  failedAt: 'failed_at',
  expiredAt: 'expired_at',
  cancellingAt: 'cancelling_at',
  cancelledAt: 'cancelled_at',
  lastSyncedAt: 'last_synced_at',
  nextSyncAt: 'next_sync_at',
  syncFailures: 'sync_failures',
  leaseOwner: 'lease_owner',
  leaseExpiresAt: 'lease_expires_at',
  cost: 'cost',
  costRecordedAt: 'cost_recorded_at',
  creating: 'creating',
  waitingForQuota: 'waiting_for_quota',
} as const satisfies { [K in keyof BatchRecord]: keyof BatchesTable };

const JSON_FIELDS: ReadonlySet<string> = new Set(['errors', 'metadata', 'usage', 'partStates']);

export class BatchStore {
  readonly #db: Database;
  readonly #holdReleased: Array<(deploymentId: string) => void> = [];

  readonly #budgetEvents: BudgetCrossingEvents | undefined;

  /** `budgetEvents`: the events of budgets a batch's cost crosses, written with the cost (`recordCostOnce`). */
  constructor(db: Database, options: { budgetEvents?: BudgetCrossingEvents } = {}) {
    this.#db = db;
    this.#budgetEvents = options.budgetEvents;
  }

  /**
   * Calls `listener` with the deployment whenever this store released a batch's hold, once the
   * transaction that released it committed: the deployment's enqueued tokens may have room now
   * (`jobs/batch-quota-starter.ts` is woken by it, and tells the other instances).
   */
  onHoldReleased(listener: (deploymentId: string) => void): void {
    this.#holdReleased.push(listener);
  }

  #tellHoldReleased(deploymentId: string | undefined): void {
    if (deploymentId === undefined) return;
    for (const listener of this.#holdReleased) {
      try {
        listener(deploymentId);
      } catch {
        // A listener never undoes what was committed; the quota starter's poll is the fallback.
      }
    }
  }

  /**
   * Inserts a batch, only while its input file is active: a file deleted (or being deleted)
   * never starts a batch. On PostgreSQL the file row is read `FOR SHARE`, so a delete that
   * begins meanwhile waits for this insert (and then sees the batch, which keeps running, as on
   * OpenAI); SQLite's `BEGIN IMMEDIATE` serialises the two. Likewise only while the batch's key
   * exists (a 401 otherwise), its row read `FOR SHARE`: a key deletion either comes first (no
   * batch) or after (its sweep marks the batch `cancelling`, see `KeyStore.deleteByHashes`),
   * never in between, however stale the key cache that let the request in.
   */
  async insert(batch: NewBatch): Promise<void> {
    await this.#insertWhileInputActive(toColumns(batch) as Insertable<BatchesTable>);
  }

  /**
   * Records the intent to create a batch before its provider batch exists: the row (`creating`,
   * not due for sync, leased to `leaseOwner`) is written first, so a crash after the provider's
   * create leaves a row the reconciler finds, never an untracked batch. Only while the input
   * file is active, as `insert`. The creator renews the lease (`renewLease`) while it works.
   */
  async insertIntent(batch: NewBatch, leaseOwner: string, leaseMs: number, now: number = nowSeconds(), hold?: HoldRequest): Promise<HoldState | undefined> {
    return this.#insertWhileInputActive(
      {
        ...(toColumns(batch) as Insertable<BatchesTable>),
        creating: 1,
        next_sync_at: null,
        lease_owner: leaseOwner,
        lease_expires_at: now + leaseMs / 1000,
      },
      hold,
    );
  }

  /**
   * Ends an intent `owner` holds: applies `patch` (the provider's id and first state, or a
   * failure) and clears `creating` and the lease. With `requireActiveInput`, only while the input
   * file is active (a file deleted during the create never starts a batch). Answers whether it applied.
   */
  async settleIntent(batchId: string, owner: string, patch: BatchPatch, options: { requireActiveInput: boolean; alongside?: WrittenAlongside }): Promise<boolean> {
    const alongside = options.alongside;
    const ends = patch.status !== undefined && TERMINAL_BATCH_STATUSES.has(patch.status);
    if (alongside === undefined && !ends) return this.#settleIntent(this.#db.kysely, batchId, owner, patch, options);
    let freed: string | undefined;
    const settled = await this.#db.kysely.transaction().execute(async (trx) => {
      if (!(await this.#settleIntent(trx, batchId, owner, patch, options))) return false;
      // An intent that ends here (its create failed for good) gives its reservation back.
      if (ends) freed = await releaseHold(trx, batchId);
      await alongside?.write(trx);
      return true;
    });
    if (settled) {
      alongside?.committed?.();
      this.#tellHoldReleased(freed);
    }
    return settled;
  }

  async #settleIntent(db: Kysely<DatabaseSchema>, batchId: string, owner: string, patch: BatchPatch, options: { requireActiveInput: boolean }): Promise<boolean> {
    const { status, nextSyncAt, ...rest } = patch;
    let query = db
      .updateTable('batches')
      .set({ ...toColumns(rest), creating: 0, lease_owner: null, lease_expires_at: null })
      .where('id', '=', batchId)
      .where('creating', '=', 1)
      .where('lease_owner', '=', owner);
    if (status !== undefined && !TERMINAL_BATCH_STATUSES.has(status)) {
      // Its key was deleted while it was being created (the deletion's sweep marked it
      // `cancelling`): it starts as cancelling, still due at once, so the poller cancels it.
      query = query.set((eb) => ({
        status: eb.case().when('status', '=', 'cancelling').then('cancelling').else(status).end(),
        ...(nextSyncAt === undefined ? {} : { next_sync_at: eb.case().when('status', '=', 'cancelling').then(eb.ref('next_sync_at')).else(nextSyncAt).end() }),
      }));
    } else {
      query = query.set(toColumns({ status, nextSyncAt }));
    }
    if (options.requireActiveInput) {
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('files').select('files.id').whereRef('files.id', '=', 'batches.input_file_id').where('files.state', '=', 'active')),
      );
    }
    return affectedRows(await query.executeTakeFirst()) === 1;
  }

  /** Removes an intent `owner` holds whose provider batch certainly was not created. */
  async dropIntent(batchId: string, owner: string): Promise<boolean> {
    let freed: string | undefined;
    const dropped = await this.#db.kysely.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('batches')
        .where('id', '=', batchId)
        .where('creating', '=', 1)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return false;
      // No batch, no reservation.
      freed = await releaseHold(trx, batchId);
      return true;
    });
    this.#tellHoldReleased(freed);
    return dropped;
  }

  /**
   * Estimated input tokens of the batches not yet ended on each of `deploymentIds`: held (counted
   * in the enqueued-token quota) and waiting for room. A deployment with neither is absent. Read
   * without a lock: for choosing where a batch goes, not for the quota's check.
   */
  async enqueuedTokensOf(deploymentIds: readonly string[]): Promise<Map<string, { held: number; waiting: number }>> {
    const result = new Map<string, { held: number; waiting: number }>();
    if (deploymentIds.length === 0) return result;
    const rows = await this.#db.kysely
      .selectFrom('batch_holds')
      .select((eb) => ['deployment_id', 'state', eb.fn.sum<number>('input_tokens').as('tokens')])
      .where('deployment_id', 'in', [...deploymentIds])
      .groupBy(['deployment_id', 'state'])
      .execute();
    for (const row of rows) {
      const entry = result.get(row.deployment_id) ?? { held: 0, waiting: 0 };
      entry[row.state === 'waiting' ? 'waiting' : 'held'] += Number(row.tokens);
      result.set(row.deployment_id, entry);
    }
    return result;
  }

  /** Deployments where batches wait for room in their enqueued-token quota. */
  async deploymentsWithWaitingBatches(): Promise<string[]> {
    const rows = await this.#db.kysely.selectFrom('batch_holds').select('deployment_id').distinct().where('state', '=', 'waiting').execute();
    return rows.map((row) => row.deployment_id);
  }

  /**
   * Takes the batches waiting on `deploymentId` that now fit its quota (`maxEnqueuedTokens`;
   * undefined: the quota is gone, every one fits), oldest first, stopping at the first that does
   * not fit (none overtakes an older one): each becomes an intent leased to `owner` (its creator
   * from here, as a create's request is), its hold counted in the enqueued tokens. Waiting
   * batches being cancelled, past their window, or leased by a sync are left to the sync.
   */
  async startWaitingBatches(deploymentId: string, maxEnqueuedTokens: number | undefined, owner: string, leaseMs: number, now: number = nowSeconds()): Promise<BatchRecord[]> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      await lockDeploymentQuota(trx, this.#db.dialect, deploymentId);
      let enqueued = await enqueuedTokens(trx, deploymentId);
      const waiting = await trx
        .selectFrom('batch_holds')
        .select(['batch_id', 'input_tokens'])
        .where('deployment_id', '=', deploymentId)
        .where('state', '=', 'waiting')
        .orderBy('created_at')
        .orderBy('batch_id')
        .limit(100)
        .execute();
      const started: BatchRecord[] = [];
      for (const hold of waiting) {
        const tokens = Number(hold.input_tokens);
        if (maxEnqueuedTokens !== undefined && enqueued + tokens > maxEnqueuedTokens) break;
        const row = await trx
          .updateTable('batches')
          .set({ waiting_for_quota: 0, creating: 1, next_sync_at: null, lease_owner: owner, lease_expires_at: now + leaseMs / 1000 })
          .where('id', '=', hold.batch_id)
          .where('waiting_for_quota', '=', 1)
          .where('status', '=', 'validating')
          .where('expires_at', '>', Math.floor(now))
          .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
          .returningAll()
          .executeTakeFirst();
        if (row === undefined) continue;
        await trx.updateTable('batch_holds').set({ state: 'held' }).where('batch_id', '=', hold.batch_id).execute();
        enqueued += tokens;
        started.push(toBatchRecord(row));
      }
      return started;
    });
  }

  /** Intents whose creator's lease ran out (it died, or gave them up), oldest first. */
  async listStuckIntents(now: number = nowSeconds(), limit = 100): Promise<BatchRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('batches')
      .selectAll()
      .where('creating', '=', 1)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toBatchRecord);
  }

  /** Takes a stuck intent's lease for `owner`; of several instances, one wins. */
  async takeIntent(batchId: string, owner: string, leaseMs: number, now: number = nowSeconds()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batches')
      .set({ lease_owner: owner, lease_expires_at: now + leaseMs / 1000 })
      .where('id', '=', batchId)
      .where('creating', '=', 1)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /**
   * With `hold`, the batch's reservation is placed in the same transaction (`batch-hold-store.ts`:
   * refused over a budget or a quota), and a batch whose hold must wait for quota is written as
   * waiting instead of as an intent: `validating`, no lease, next looked at when it expires.
   */
  async #insertWhileInputActive(values: Insertable<BatchesTable>, hold?: HoldRequest): Promise<HoldState | undefined> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      // The deployment's quota lock first, before any row: the lock order of `batch-hold-store.ts`.
      if (hold?.maxEnqueuedTokens !== undefined) await lockDeploymentQuota(trx, this.#db.dialect, hold.deploymentId);
      let file = trx.selectFrom('files').select('state').where('id', '=', values.input_file_id);
      if (this.#db.dialect === 'postgres') file = file.forShare();
      if ((await file.executeTakeFirst())?.state !== 'active') {
        throw new NotFoundError(`No such File object: ${values.input_file_id}`, { param: 'input_file_id' });
      }
      if (values.key_id != null) {
        let key = trx.selectFrom('api_keys').select('id').where('id', '=', values.key_id);
        // A hold locks the key FOR UPDATE (its reserved spend changes): taken so at once, never upgraded from a share lock.
        if (this.#db.dialect === 'postgres') key = hold === undefined ? key.forShare() : key.forUpdate();
        if ((await key.executeTakeFirst()) === undefined) throw new AuthenticationError('This API key has been deleted.', { code: 'invalid_api_key' });
      }
      const state = hold === undefined ? undefined : await placeHold(trx, this.#db.dialect, hold);
      const row: Insertable<BatchesTable> =
        state === 'waiting' ? { ...values, creating: 0, waiting_for_quota: 1, lease_owner: null, lease_expires_at: null, next_sync_at: values.expires_at ?? null } : values;
      await trx.insertInto('batches').values(row).execute();
      return state;
    });
  }

  async getById(id: string): Promise<BatchRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toBatchRecord(row);
  }

  /**
   * Newest first by (created_at, id). `after` is a batch id; one that does not exist gives an
   * empty page. An empty `modelGroups` matches nothing.
   */
  async list(options: BatchListOptions): Promise<Page<BatchRecord>> {
    const db = this.#db.kysely;
    if (options.modelGroups !== undefined && options.modelGroups.length === 0) return { rows: [], hasMore: false };
    // A batch still being created is not shown: its create has not answered yet.
    let query = db.selectFrom('batches').selectAll().where('creating', '=', 0);
    if (options.owner !== undefined) query = query.where('owner', '=', options.owner);
    if (options.modelGroups !== undefined) query = query.where('model_group', 'in', [...options.modelGroups]);
    if (options.after !== undefined) {
      const cursor = await db.selectFrom('batches').select(['id', 'created_at']).where('id', '=', options.after).executeTakeFirst();
      if (!cursor) return { rows: [], hasMore: false };
      const createdAt = Number(cursor.created_at);
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', cursor.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute();
    return toPage(rows.map(toBatchRecord), options.limit);
  }

  /** Batches not yet in a terminal status, oldest first (e.g. the engine resuming after restart). */
  async listNonTerminal(options: { execution?: BatchExecution; limit?: number } = {}): Promise<BatchRecord[]> {
    let query = this.#db.kysely.selectFrom('batches').selectAll().where('status', 'not in', TERMINAL).where('creating', '=', 0);
    if (options.execution !== undefined) query = query.where('execution', '=', options.execution);
    const rows = await query.orderBy('created_at').orderBy('id').limit(options.limit ?? 1000).execute();
    return rows.map(toBatchRecord);
  }

  /** Applies `patch` if the guard holds; answers whether it applied. */
  async update(id: string, patch: BatchPatch, guard: BatchUpdateGuard = {}): Promise<boolean> {
    if (Object.keys(toColumns(patch)).length === 0) return false;
    const { status, cancellingAt, ...rest } = patch;
    const cancelKept = guard.keepCancel === true && status !== undefined && !TERMINAL_BATCH_STATUSES.has(status);
    let query = this.#db.kysely
      .updateTable('batches')
      .set(toColumns(cancelKept ? rest : patch))
      .where('id', '=', id);
    if (cancelKept) {
      query = query.set((eb) => ({
        status: eb.case().when('status', '=', 'cancelling').then('cancelling').else(status).end(),
        ...(cancellingAt === undefined ? {} : { cancelling_at: eb.fn.coalesce('cancelling_at', eb.val(cancellingAt)) }),
      }));
    }
    if (guard.expectedStatus !== undefined) {
      const statuses = typeof guard.expectedStatus === 'string' ? [guard.expectedStatus] : [...guard.expectedStatus];
      query = query.where('status', 'in', statuses);
    }
    if (guard.leaseOwner !== undefined) query = query.where('lease_owner', '=', guard.leaseOwner);
    return affectedRows(await query.executeTakeFirst()) === 1;
  }

  /**
   * Stores a batch's terminal status (its finalisation), once: only while the batch is not
   * terminal yet and `leaseOwner` (when given) holds its lease. `alongside` (the batch's webhook
   * events) is written in the same transaction, so it exists exactly when the status was stored.
   * Answers whether the status was stored.
   */
  async storeTerminal(id: string, patch: BatchPatch & { status: BatchStatus }, guard: { leaseOwner?: string }, alongside?: WrittenAlongside): Promise<boolean> {
    if (!TERMINAL_BATCH_STATUSES.has(patch.status)) throw new Error(`storeTerminal: '${patch.status}' is not a terminal status`);
    let freed: string | undefined;
    const stored = await this.#db.kysely.transaction().execute(async (trx) => {
      let query = trx
        .updateTable('batches')
        .set(toColumns(patch))
        .where('id', '=', id)
        .where('status', 'not in', [...TERMINAL_BATCH_STATUSES]);
      if (guard.leaseOwner !== undefined) query = query.where('lease_owner', '=', guard.leaseOwner);
      if (affectedRows(await query.executeTakeFirst()) !== 1) return false;
      // Normally released already with the cost (`recordCostOnce`); a terminal state never keeps one.
      freed = await releaseHold(trx, id);
      await alongside?.write(trx);
      return true;
    });
    if (stored) {
      alongside?.committed?.();
      this.#tellHoldReleased(freed);
    }
    return stored;
  }

  /**
   * Registers the batch's output and/or error file exactly once, however many callers race
   * (retrieves on several instances, the poller): the batch row is locked (`FOR UPDATE` on
   * PostgreSQL; `BEGIN IMMEDIATE` on SQLite), a kind already registered is left alone, and the
   * unique constraints on `batches.output_file_id`/`error_file_id` back this up. Losers get the
   * winner's ids and `registered*: false`, and should delete any blob they wrote.
   */
  async registerResultFiles(
    batchId: string,
    files: { output?: ResultFileRegistration; error?: ResultFileRegistration },
  ): Promise<RegisteredResultFiles> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      let select = trx.selectFrom('batches').select(['owner', 'output_file_id', 'error_file_id']).where('id', '=', batchId);
      if (this.#db.dialect === 'postgres') select = select.forUpdate();
      const batch = await select.executeTakeFirst();
      if (!batch) throw new NotFoundError(`No batch found with id '${batchId}'.`);
      const result: RegisteredResultFiles = {
        outputFileId: batch.output_file_id,
        errorFileId: batch.error_file_id,
        registeredOutput: false,
        registeredError: false,
      };
      if (files.output && batch.output_file_id === null) {
        await registerOne(trx, batchId, batch.owner, files.output, 'output_file_id');
        result.outputFileId = files.output.file.id;
        result.registeredOutput = true;
      }
      if (files.error && batch.error_file_id === null) {
        await registerOne(trx, batchId, batch.owner, files.error, 'error_file_id');
        result.errorFileId = files.error.file.id;
        result.registeredError = true;
      }
      return result;
    });
  }

  /**
   * Records the batch's cost and adds it to the key's spend (the ledger row adds it to the user's
   * and team's), releasing the batch's hold (`batch-hold-store.ts`), in one transaction, exactly once:
   * the conditional update on `cost_recorded_at IS NULL` lets one caller through (PostgreSQL
   * re-checks the condition after a concurrent update commits). Answers whether this call did it.
   * The budgets of the key, user and team the cost crosses get their events in the same
   * transaction (`budget-crossings.ts`).
   */
  async recordCostOnce(batchId: string, cost: number, keyId: string | null, now: number = unixSeconds(), ledgerRow?: BatchLedgerRow): Promise<boolean> {
    let freed: string | undefined;
    let eventsWritten: (() => void) | undefined;
    const recorded = await this.#db.kysely.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('batches')
        .set({ cost, cost_recorded_at: now })
        .where('id', '=', batchId)
        .where('cost_recorded_at', 'is', null)
        .executeTakeFirst();
      if (affectedRows(result) !== 1) return false;
      // The reservation settles to the actual cost: released in the transaction that charges it.
      freed = await releaseHold(trx, batchId);
      const crossings = keyId !== null && cost !== 0 ? await addSubjectSpend(trx, { keys: new Map([[keyId, cost]]) }) : [];
      if (ledgerRow !== undefined) {
        // The batch's row of the spend ledger, in the same transaction: written exactly once too.
        const key = keyId === null ? undefined : await trx.selectFrom('api_keys').select(['user_id', 'team_id']).where('id', '=', keyId).executeTakeFirst();
        crossings.push(...(await SpendLogStore.insertBatchRow(trx, { ...ledgerRow, keyId, userId: key?.user_id ?? null, teamId: key?.team_id ?? null, spend: cost, batchId })));
      }
      eventsWritten = await writeCrossingEvents(trx, crossings, this.#budgetEvents);
      return true;
    });
    this.#tellHoldReleased(freed);
    eventsWritten?.();
    return recorded;
  }

  /**
   * Leases up to `limit` batches due for a sync (not terminal, `next_sync_at <= now`, lease free
   * or expired) to `owner` for `leaseMs`. A batch is never leased to two owners at once:
   * PostgreSQL uses one `WITH next AS (SELECT ... FOR UPDATE SKIP LOCKED) UPDATE ... RETURNING`
   * (concurrent leasers skip each other's rows); SQLite runs one `UPDATE ... RETURNING`, which takes
   * the write lock before it reads (one writer at a time), on its worker (`off-loop-statement.ts`).
   */
  async leaseDueBatches(owner: string, limit: number, leaseMs: number, now: number = nowSeconds()): Promise<BatchRecord[]> {
    const leaseExpiresAt = now + leaseMs / 1000;
    const db = this.#db.kysely;
    const dueIds = (qb: QueryCreator<DatabaseSchema>) =>
      qb
        .selectFrom('batches')
        .select('id')
        .where('status', 'not in', TERMINAL)
        .where('next_sync_at', '<=', now)
        .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
        .orderBy('next_sync_at')
        .orderBy('id')
        .limit(limit);
    if (this.#db.dialect === 'postgres') {
      const rows = await db
        .with('next', (qb) => dueIds(qb).forUpdate().skipLocked())
        .updateTable('batches')
        .set({ lease_owner: owner, lease_expires_at: leaseExpiresAt })
        .from('next')
        .whereRef('batches.id', '=', 'next.id')
        .returningAll('batches')
        .execute();
      return sortByNextSync(rows.map(toBatchRecord));
    }
    // SQLite: one statement (atomic by itself), off the event loop (the poller leases every few
    // hundred ms while a batch runs).
    const lease = db
      .updateTable('batches')
      .set({ lease_owner: owner, lease_expires_at: leaseExpiresAt })
      .where('id', 'in', dueIds(db))
      .returningAll()
      .compile();
    const { rows } = await executeWriteOffLoop(this.#db, lease);
    return sortByNextSync(rows.map(toBatchRecord));
  }

  /**
   * Takes the lease of one batch for `owner` if it is free or expired (a client's retrieve
   * refreshing a stale batch); answers whether it did. One conditional update: two instances
   * racing for the same batch cannot both win.
   */
  async acquireLease(batchId: string, owner: string, leaseMs: number, now: number = nowSeconds()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batches')
      .set({ lease_owner: owner, lease_expires_at: now + leaseMs / 1000 })
      .where('id', '=', batchId)
      .where('status', 'not in', TERMINAL)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /** Extends a lease `owner` still holds; answers whether it did. */
  async renewLease(batchId: string, owner: string, leaseMs: number, now: number = nowSeconds()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batches')
      .set({ lease_expires_at: now + leaseMs / 1000 })
      .where('id', '=', batchId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /**
   * Frees the lease `owner` holds, applying `patch` in the same statement (typically the next
   * `nextSyncAt` and `syncFailures`). Answers false if the lease had passed to someone else.
   */
  async releaseLease(batchId: string, owner: string, patch: BatchPatch = {}): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batches')
      .set({ ...toColumns(patch), lease_owner: null, lease_expires_at: null })
      .where('id', '=', batchId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }
}

async function registerOne(
  trx: Transaction<DatabaseSchema>,
  batchId: string,
  owner: string,
  registration: ResultFileRegistration,
  column: 'output_file_id' | 'error_file_id',
): Promise<void> {
  const { purpose, ...file } = registration.file;
  await insertFileRow(trx, { ...file, purpose: purpose ?? 'batch_output', owner, batchId });
  for (const copy of registration.copies ?? []) await insertCopyRow(trx, { ...copy, fileId: file.id });
  const result = await trx
    .updateTable('batches')
    .set({ [column]: file.id })
    .where('id', '=', batchId)
    .where(column, 'is', null)
    .executeTakeFirst();
  // The row lock (or SQLite's write lock) makes this unreachable; if it ever is, roll back.
  if (affectedRows(result) !== 1) throw new Error(`Batch ${batchId} already has its ${column}.`);
}

function toColumns(fields: Partial<BatchRecord>): Updateable<BatchesTable> {
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const column = COLUMNS[field as keyof BatchRecord];
    if (column === undefined) continue;
    values[column] = JSON_FIELDS.has(field) ? toNullableJsonText(value) : value;
  }
  return values as Updateable<BatchesTable>;
}

function sortByNextSync(records: BatchRecord[]): BatchRecord[] {
  return records.sort((a, b) => (a.nextSyncAt ?? 0) - (b.nextSyncAt ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function toBatchRecord(row: Selectable<BatchesTable>): BatchRecord {
  return {
    id: row.id,
    owner: row.owner,
    keyId: row.key_id,
    endpoint: row.endpoint,
    completionWindow: row.completion_window,
    modelGroup: row.model_group,
    deploymentId: row.deployment_id,
    execution: row.execution as BatchExecution,
    providerBatchId: row.provider_batch_id,
    partStates: parseJsonText<(string | null)[] | null>(row.part_states, null),
    inputFileId: row.input_file_id,
    outputFileId: row.output_file_id,
    errorFileId: row.error_file_id,
    providerOutputFileId: row.provider_output_file_id,
    providerErrorFileId: row.provider_error_file_id,
    status: row.status as BatchStatus,
    rawStatus: row.raw_status,
    errors: parseJsonText<BatchErrorItem[] | null>(row.errors, null),
    metadata: parseJsonText<Record<string, string> | null>(row.metadata, null),
    outputExpiresAfterSeconds: nullableNumber(row.output_expires_after_seconds),
    requestTotal: Number(row.request_total),
    requestCompleted: Number(row.request_completed),
    requestFailed: Number(row.request_failed),
    usage: parseJsonText<BatchUsage | null>(row.usage, null),
    createdAt: Number(row.created_at),
    inProgressAt: nullableNumber(row.in_progress_at),
    expiresAt: nullableNumber(row.expires_at),
    finalizingAt: nullableNumber(row.finalizing_at),
    completedAt: nullableNumber(row.completed_at),
    failedAt: nullableNumber(row.failed_at),
    expiredAt: nullableNumber(row.expired_at),
    cancellingAt: nullableNumber(row.cancelling_at),
    cancelledAt: nullableNumber(row.cancelled_at),
    lastSyncedAt: nullableNumber(row.last_synced_at),
    nextSyncAt: nullableNumber(row.next_sync_at),
    syncFailures: Number(row.sync_failures),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: nullableNumber(row.lease_expires_at),
    cost: nullableNumber(row.cost),
    costRecordedAt: nullableNumber(row.cost_recorded_at),
    creating: Number(row.creating) === 1,
    waitingForQuota: Number(row.waiting_for_quota) === 1,
  };
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
