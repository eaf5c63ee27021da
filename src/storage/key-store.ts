/** Virtual keys: only the hash of a key is stored; the plaintext is shown once, at creation. */
import type { Selectable, Updateable } from 'kysely';
import type { Database } from './database.ts';
import { nowSeconds, parseJsonText, toJsonText, unixSeconds } from './row-mapping.ts';
import type { ApiKeysTable } from './schema.ts';
import { resetDueBudgets, type ModelMaxBudget } from './budget-columns.ts';
import type { BudgetSubjectKind, SubjectRateLimits } from '../spec/budget-subjects.ts';

function subjectLimits(kind: BudgetSubjectKind, id: string, rpm: number | null, tpm: number | null): SubjectRateLimits | undefined {
  if (rpm == null && tpm == null) return undefined;
  return { kind, id, ...(rpm != null && { rpmLimit: Number(rpm) }), ...(tpm != null && { tpmLimit: Number(tpm) }) };
}

export interface VirtualKeyRecord {
  id: string;
  keyHash: string;
  keyAlias: string | null;
  userId: string | null;
  teamId: string | null;
  /** Model groups the key may use; empty = every model. */
  models: string[];
  metadata: Record<string, unknown>;
  spend: number;
  /** Estimated cost of the key's batches not yet ended (`batch_holds`, migration 0015); read only. */
  reservedSpend?: number;
  createdAt: number;
  expiresAt: number | null;
  blocked: boolean;
  /** Requests per minute (`rpm_limit`); absent = no limit. */
  rpmLimit?: number;
  /** Tokens per minute, counted from the upstream answers' `usage` (`tpm_limit`); absent = no limit. */
  tpmLimit?: number;
  /** Spend (USD) at which the key stops (`max_budget`); absent = none. */
  maxBudget?: number;
  /** Spend (USD) at which a `budget.soft_exceeded` event is sent (`soft_budget`); absent = none. */
  softBudget?: number;
  /** `budget_duration` as given (`30d`, ...): the spend goes back to 0 every such period. */
  budgetDuration?: string;
  /** When the spend next goes back to 0 (unix seconds). */
  budgetResetAt?: number;
  /** Requests in flight at once (`max_parallel_requests`); absent = no limit. */
  maxParallelRequests?: number;
  /** Per model group budgets (`model_max_budget`). */
  modelMaxBudget?: ModelMaxBudget;
}

/** The fields `update` may change; `null` clears a limit. */
export type VirtualKeyPatch = Partial<Pick<VirtualKeyRecord, 'keyAlias' | 'userId' | 'teamId' | 'models' | 'metadata' | 'expiresAt' | 'blocked' | 'keyHash'>> & {
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  maxBudget?: number | null;
  softBudget?: number | null;
  budgetDuration?: string | null;
  budgetResetAt?: number | null;
  maxParallelRequests?: number | null;
  modelMaxBudget?: ModelMaxBudget | null;
};

export class KeyStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(record: VirtualKeyRecord): Promise<void> {
    await this.#db.kysely
      .insertInto('api_keys')
      .values({
        id: record.id,
        key_hash: record.keyHash,
        key_alias: record.keyAlias,
        user_id: record.userId,
        team_id: record.teamId,
        models: toJsonText(record.models),
        metadata: toJsonText(record.metadata),
        spend: record.spend,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        blocked: record.blocked ? 1 : 0,
        rpm_limit: record.rpmLimit ?? null,
        tpm_limit: record.tpmLimit ?? null,
        max_budget: record.maxBudget ?? null,
        soft_budget: record.softBudget ?? null,
        budget_duration: record.budgetDuration ?? null,
        budget_reset_at: record.budgetResetAt ?? null,
        max_parallel_requests: record.maxParallelRequests ?? null,
        model_max_budget: record.modelMaxBudget === undefined ? null : toJsonText(record.modelMaxBudget),
      })
      .execute();
  }

  async findByHash(keyHash: string): Promise<VirtualKeyRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async findById(id: string): Promise<VirtualKeyRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Keys newest first (admin listing). */
  async list(options: { userId?: string; teamId?: string; limit?: number; offset?: number } = {}): Promise<VirtualKeyRecord[]> {
    let query = this.#db.kysely.selectFrom('api_keys').selectAll();
    if (options.userId !== undefined) query = query.where('user_id', '=', options.userId);
    if (options.teamId !== undefined) query = query.where('team_id', '=', options.teamId);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit ?? 1000).offset(options.offset ?? 0).execute();
    return rows.map(toRecord);
  }

  async count(options: { userId?: string; teamId?: string } = {}): Promise<number> {
    let query = this.#db.kysely.selectFrom('api_keys').select((eb) => eb.fn.countAll().as('count'));
    if (options.userId !== undefined) query = query.where('user_id', '=', options.userId);
    if (options.teamId !== undefined) query = query.where('team_id', '=', options.teamId);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Applies `patch` to the key with this hash; answers the updated key, or undefined if none. */
  async updateByHash(keyHash: string, patch: VirtualKeyPatch): Promise<VirtualKeyRecord | undefined> {
    const values: Updateable<ApiKeysTable> = {};
    if (patch.keyAlias !== undefined) values.key_alias = patch.keyAlias;
    if (patch.userId !== undefined) values.user_id = patch.userId;
    if (patch.teamId !== undefined) values.team_id = patch.teamId;
    if (patch.models !== undefined) values.models = toJsonText(patch.models);
    if (patch.metadata !== undefined) values.metadata = toJsonText(patch.metadata);
    if (patch.expiresAt !== undefined) values.expires_at = patch.expiresAt;
    if (patch.blocked !== undefined) values.blocked = patch.blocked ? 1 : 0;
    if (patch.keyHash !== undefined) values.key_hash = patch.keyHash;
    if (patch.rpmLimit !== undefined) values.rpm_limit = patch.rpmLimit;
    if (patch.tpmLimit !== undefined) values.tpm_limit = patch.tpmLimit;
    if (patch.maxBudget !== undefined) values.max_budget = patch.maxBudget;
    if (patch.softBudget !== undefined) values.soft_budget = patch.softBudget;
    if (patch.budgetDuration !== undefined) values.budget_duration = patch.budgetDuration;
    if (patch.budgetResetAt !== undefined) values.budget_reset_at = patch.budgetResetAt;
    if (patch.maxParallelRequests !== undefined) values.max_parallel_requests = patch.maxParallelRequests;
    if (patch.modelMaxBudget !== undefined) values.model_max_budget = patch.modelMaxBudget === null ? null : toJsonText(patch.modelMaxBudget);
    if (Object.keys(values).length === 0) return this.findByHash(keyHash);
    const row = await this.#db.kysely
      .updateTable('api_keys')
      .set(values)
      .where('key_hash', '=', keyHash)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Deletes the keys with these hashes; answers the ids of those that existed. In the same
   * transaction the batches those keys started and that still run (`validating`, `in_progress`)
   * are marked `cancelling` and made due for a sync: the batch poller, on whichever instance,
   * then cancels them at their provider or in the engine. A deleted key leaves nothing running.
   */
  async deleteByHashes(hashes: readonly string[]): Promise<string[]> {
    if (hashes.length === 0) return [];
    return this.#db.kysely.transaction().execute(async (trx) => {
      if (this.#db.dialect === 'postgres') {
        // Batch rows before key rows, the order a batch's settlement takes them in (its row, its
        // hold, then its key: `BatchStore.recordCostOnce`), so that the two never deadlock.
        const keys = trx.selectFrom('api_keys').select('id').where('key_hash', 'in', [...hashes]);
        await trx.selectFrom('batches').select('id').where('key_id', 'in', keys).where('status', 'in', ['validating', 'in_progress']).orderBy('id').forUpdate().execute();
      }
      const rows = await trx.deleteFrom('api_keys').where('key_hash', 'in', [...hashes]).returning('id').execute();
      const ids = rows.map((r) => r.id);
      if (ids.length > 0) {
        await trx
          .updateTable('batches')
          .set({ status: 'cancelling', cancelling_at: unixSeconds(), next_sync_at: nowSeconds() })
          .where('key_id', 'in', ids)
          .where('status', 'in', ['validating', 'in_progress'])
          .execute();
      }
      return ids;
    });
  }

  /**
   * The rpm/tpm limits that apply to these keys' requests: the key's, its user's and its team's,
   * those that have one (the batch engine paces their batches by them). Keys without any, or
   * that do not exist, are left out; a `user_id` or `team_id` naming no row adds nothing, as for
   * live requests.
   */
  async limitsOf(ids: readonly string[]): Promise<Map<string, SubjectRateLimits[]>> {
    const limits = new Map<string, SubjectRateLimits[]>();
    if (ids.length === 0) return limits;
    const rows = await this.#db.kysely
      .selectFrom('api_keys')
      .leftJoin('users', 'users.user_id', 'api_keys.user_id')
      .leftJoin('teams', 'teams.team_id', 'api_keys.team_id')
      .select([
        'api_keys.id as key_id',
        'api_keys.rpm_limit as key_rpm',
        'api_keys.tpm_limit as key_tpm',
        'users.user_id as user_id',
        'users.rpm_limit as user_rpm',
        'users.tpm_limit as user_tpm',
        'teams.team_id as team_id',
        'teams.rpm_limit as team_rpm',
        'teams.tpm_limit as team_tpm',
      ])
      .where('api_keys.id', 'in', [...ids])
      .execute();
    for (const row of rows) {
      const subjects = [
        subjectLimits('key', row.key_id, row.key_rpm, row.key_tpm),
        row.user_id === null ? undefined : subjectLimits('user', row.user_id, row.user_rpm, row.user_tpm),
        row.team_id === null ? undefined : subjectLimits('team', row.team_id, row.team_rpm, row.team_tpm),
      ].filter((subject) => subject !== undefined);
      if (subjects.length > 0) limits.set(row.key_id, subjects);
    }
    return limits;
  }

  /**
   * Keys whose budget period ended get their spend back to 0 and their next reset date: one
   * conditional UPDATE per key (on the reset date read), so instances doing it at once reset a
   * key once. `periodSeconds` turns a key's `budget_duration` into seconds. Answers the keys reset.
   */
  async resetBudgets(periodSeconds: (duration: string) => number | undefined, now: number = unixSeconds()): Promise<string[]> {
    return resetDueBudgets(this.#db.kysely, 'api_keys', 'id', periodSeconds, now);
  }

  /** Adds `amount` to the key's spend atomically (a missing key is ignored). */
  async addSpend(keyId: string, amount: number): Promise<void> {
    await this.#db.kysely
      .updateTable('api_keys')
      .set((eb) => ({ spend: eb('spend', '+', amount) }))
      .where('id', '=', keyId)
      .execute();
  }
}

function toRecord(row: Selectable<ApiKeysTable>): VirtualKeyRecord {
  return {
    id: row.id,
    keyHash: row.key_hash,
    keyAlias: row.key_alias,
    userId: row.user_id,
    teamId: row.team_id,
    models: parseJsonText<string[]>(row.models, []),
    metadata: parseJsonText<Record<string, unknown>>(row.metadata, {}),
    spend: Number(row.spend),
    reservedSpend: Number(row.reserved_spend ?? 0),
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    blocked: Number(row.blocked) === 1,
    ...(row.rpm_limit != null && { rpmLimit: Number(row.rpm_limit) }),
    ...(row.tpm_limit != null && { tpmLimit: Number(row.tpm_limit) }),
    ...(row.max_budget != null && { maxBudget: Number(row.max_budget) }),
    ...(row.soft_budget != null && { softBudget: Number(row.soft_budget) }),
    ...(row.budget_duration != null && { budgetDuration: row.budget_duration }),
    ...(row.budget_reset_at != null && { budgetResetAt: Number(row.budget_reset_at) }),
    ...(row.max_parallel_requests != null && { maxParallelRequests: Number(row.max_parallel_requests) }),
    ...(row.model_max_budget != null && { modelMaxBudget: parseJsonText<ModelMaxBudget>(row.model_max_budget, {}) }),
  };
}
