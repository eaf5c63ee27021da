/**
 * Batch holds (migration 0015): what a batch not yet ended reserved, placed in the transaction
 * that writes the batch's row and released in the one that records its actual cost.
 *
 * - **Budgets.** A hold adds the batch's estimated cost to the `reserved_spend` of its key, user
 *   and team; a batch whose reservation would take any of them past `max_budget`
 *   (`spend + reserved_spend + reservation`) is refused. The rows are locked (`FOR UPDATE` on
 *   PostgreSQL, SQLite's `BEGIN IMMEDIATE` serialises every writer), so two creates on several
 *   instances cannot both pass a budget only one of them fits.
 * - **Enqueued tokens.** A hold `held` counts its estimated input tokens against its deployment's
 *   `batch_max_enqueued_tokens`; one that does not fit is refused, or placed `waiting`, behind
 *   every batch already waiting there (oldest first). PostgreSQL serialises the check per
 *   deployment with a transaction-scoped advisory lock.
 *
 * Lock order, the same everywhere so that none of these deadlock with each other or with the
 * spend ledger (which locks keys, then users, then teams): the deployment's advisory lock, then
 * batch rows, then hold rows, then the key, the user, the team.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { reservationExceedsBudget, type BudgetSubjectKind } from '../spec/budget-subjects.ts';
import { InvalidRequestError } from '../spec/errors.ts';
import type { SqlDialectName } from './database.ts';
import { nowSeconds } from './row-mapping.ts';
import type { DatabaseSchema } from './schema.ts';

export type HoldState = 'held' | 'waiting';

/** What an over-quota batch does: `refuse` it (400), or `wait` for room (stays `validating`). */
export type QuotaExceededPolicy = 'refuse' | 'wait';

export interface BatchHold {
  batchId: string;
  keyId: string | null;
  userId: string | null;
  teamId: string | null;
  deploymentId: string;
  /** The batch's estimated cost, USD. */
  reservedCost: number;
  inputTokens: number;
  outputTokens: number;
  state: HoldState;
  createdAt: number;
}

export interface HoldRequest extends Omit<BatchHold, 'state' | 'createdAt'> {
  /** The deployment's `batch_max_enqueued_tokens`; absent: no quota. */
  maxEnqueuedTokens?: number;
  whenQuotaExceeded: QuotaExceededPolicy;
  /** How the deployment is named in a refusal (its model group, as Azure names its deployment). */
  deploymentLabel: string;
}

/** Amounts below this left in `reserved_spend` by floating-point subtraction are taken as 0. */
const RESERVED_EPSILON = 1e-9;

/**
 * Checks and places `request`'s hold in the caller's transaction (before the batch's row is
 * written there too): throws LiteLLM's 400 `budget_exceeded` when the reservation passes a
 * budget, Azure's 400 `token_limit_exceeded` when the tokens do not fit the deployment's quota
 * and the policy refuses; answers the hold's state.
 */
export async function placeHold(trx: Transaction<DatabaseSchema>, dialect: SqlDialectName, request: HoldRequest): Promise<HoldState> {
  const { state, queuedAt } = await quotaState(trx, dialect, request);
  await reserveSpend(trx, dialect, request);
  await trx
    .insertInto('batch_holds')
    .values({
      batch_id: request.batchId,
      key_id: request.keyId,
      user_id: request.userId,
      team_id: request.teamId,
      deployment_id: request.deploymentId,
      reserved_cost: request.reservedCost,
      input_tokens: request.inputTokens,
      output_tokens: request.outputTokens,
      state,
      // When the hold was placed, to the millisecond: waiting batches start in this order.
      created_at: queuedAt,
    })
    .execute();
  return state;
}

/**
 * Removes the batch's hold and gives its reservation back to its key, user and team, once: the
 * delete lets one caller through. Answers the deployment whose quota it freed when this call
 * released it (the caller tells the quota starters once its transaction commits), else undefined.
 */
export async function releaseHold(trx: Transaction<DatabaseSchema>, batchId: string): Promise<string | undefined> {
  const hold = await trx.deleteFrom('batch_holds').where('batch_id', '=', batchId).returningAll().executeTakeFirst();
  if (hold === undefined) return undefined;
  const cost = Number(hold.reserved_cost);
  if (cost === 0) return hold.deployment_id;
  const lessReserved = sql<number>`case when reserved_spend - ${cost} < ${RESERVED_EPSILON} then 0 else reserved_spend - ${cost} end`;
  if (hold.key_id !== null) await trx.updateTable('api_keys').set({ reserved_spend: lessReserved }).where('id', '=', hold.key_id).execute();
  if (hold.user_id !== null) await trx.updateTable('users').set({ reserved_spend: lessReserved }).where('user_id', '=', hold.user_id).execute();
  if (hold.team_id !== null) await trx.updateTable('teams').set({ reserved_spend: lessReserved }).where('team_id', '=', hold.team_id).execute();
  return hold.deployment_id;
}

/** Serialises the quota checks of one deployment across instances (PostgreSQL; SQLite has one writer). */
export async function lockDeploymentQuota(trx: Transaction<DatabaseSchema>, dialect: SqlDialectName, deploymentId: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtext(${`portico.batch_quota:${deploymentId}`}))`.execute(trx);
}

/** Estimated input tokens of the deployment's held batches (its enqueued tokens). */
export async function enqueuedTokens(db: Kysely<DatabaseSchema>, deploymentId: string): Promise<number> {
  const row = await db
    .selectFrom('batch_holds')
    .select((eb) => eb.fn.sum<number>('input_tokens').as('tokens'))
    .where('deployment_id', '=', deploymentId)
    .where('state', '=', 'held')
    .executeTakeFirst();
  return Number(row?.tokens ?? 0);
}

/** Azure's words for an enqueued-token quota a batch does not fit (WIRE.md: `token_limit_exceeded`). */
export function tokenLimitExceeded(deploymentLabel: string, limit: number, enqueued: number, tokens: number): InvalidRequestError {
  const format = (n: number) => n.toLocaleString('en-US');
  return new InvalidRequestError(
    `Enqueued token limit reached for ${deploymentLabel}. Limit: ${format(limit)} enqueued tokens; enqueued: ${format(enqueued)}; this batch: ${format(tokens)} (estimated). Please try again once some in_progress batches have been completed.`,
    { code: 'token_limit_exceeded', param: null },
  );
}

/**
 * The hold's state, and its place in the deployment's queue (`created_at`): now, or for a waiting
 * hold placed in the same millisecond as the last one waiting, a millisecond after it, so that
 * batches created one after the other start in that order (a tie would fall to the batch ids,
 * which are random, and a later small batch could overtake an earlier large one).
 */
async function quotaState(trx: Transaction<DatabaseSchema>, dialect: SqlDialectName, request: HoldRequest): Promise<{ state: HoldState; queuedAt: number }> {
  const now = nowSeconds();
  const limit = request.maxEnqueuedTokens;
  if (limit === undefined) return { state: 'held', queuedAt: now };
  await lockDeploymentQuota(trx, dialect, request.deploymentId);
  const enqueued = await enqueuedTokens(trx, request.deploymentId);
  // A batch larger than the whole quota would wait for ever: refused whatever the policy.
  if (request.inputTokens > limit) throw tokenLimitExceeded(request.deploymentLabel, limit, enqueued, request.inputTokens);
  const lastWaiting = await trx
    .selectFrom('batch_holds')
    .select((eb) => eb.fn.max<number | null>('created_at').as('queued_at'))
    .where('deployment_id', '=', request.deploymentId)
    .where('state', '=', 'waiting')
    .executeTakeFirst();
  const lastQueuedAt = lastWaiting?.queued_at === null || lastWaiting?.queued_at === undefined ? undefined : Number(lastWaiting.queued_at);
  // Oldest first: a batch arriving while others wait queues behind them even if it would fit.
  if (lastQueuedAt === undefined && enqueued + request.inputTokens <= limit) return { state: 'held', queuedAt: now };
  if (request.whenQuotaExceeded === 'wait') return { state: 'waiting', queuedAt: lastQueuedAt === undefined ? now : Math.max(now, lastQueuedAt + 0.001) };
  throw tokenLimitExceeded(request.deploymentLabel, limit, enqueued, request.inputTokens);
}

interface SubjectRow {
  id: string;
  spend: number;
  reserved_spend: number;
  max_budget: number | null;
}

async function reserveSpend(trx: Transaction<DatabaseSchema>, dialect: SqlDialectName, request: HoldRequest): Promise<void> {
  const lock = dialect === 'postgres';
  const subjects: { kind: BudgetSubjectKind; row: SubjectRow | undefined }[] = [];
  if (request.keyId !== null) {
    let query = trx.selectFrom('api_keys').select(['id', 'spend', 'reserved_spend', 'max_budget']).where('id', '=', request.keyId);
    if (lock) query = query.forUpdate();
    subjects.push({ kind: 'key', row: await query.executeTakeFirst() });
  }
  if (request.userId !== null) {
    let query = trx.selectFrom('users').select(['user_id as id', 'spend', 'reserved_spend', 'max_budget']).where('user_id', '=', request.userId);
    if (lock) query = query.forUpdate();
    subjects.push({ kind: 'user', row: await query.executeTakeFirst() });
  }
  if (request.teamId !== null) {
    let query = trx.selectFrom('teams').select(['team_id as id', 'spend', 'reserved_spend', 'max_budget']).where('team_id', '=', request.teamId);
    if (lock) query = query.forUpdate();
    subjects.push({ kind: 'team', row: await query.executeTakeFirst() });
  }
  for (const { kind, row } of subjects) {
    if (row === undefined || row.max_budget === null) continue;
    const spend = Number(row.spend);
    const reserved = Number(row.reserved_spend);
    const max = Number(row.max_budget);
    if (spend + reserved + request.reservedCost > max) throw reservationExceedsBudget({ kind, id: row.id, spend, reserved, reservation: request.reservedCost, maxBudget: max });
  }
  if (request.reservedCost === 0) return;
  const plusReserved = sql<number>`reserved_spend + ${request.reservedCost}`;
  if (request.keyId !== null) await trx.updateTable('api_keys').set({ reserved_spend: plusReserved }).where('id', '=', request.keyId).execute();
  if (request.userId !== null) await trx.updateTable('users').set({ reserved_spend: plusReserved }).where('user_id', '=', request.userId).execute();
  if (request.teamId !== null) await trx.updateTable('teams').set({ reserved_spend: plusReserved }).where('team_id', '=', request.teamId).execute();
}
