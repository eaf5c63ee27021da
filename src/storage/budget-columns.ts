/**
 * The budget columns keys, users and teams share (migrations 0012, 0014): mapped to and from
 * records in one place, and the budget reset every table gets the same way.
 */
import type { Kysely } from 'kysely';
import { parseJsonText, toJsonText } from './row-mapping.ts';

/** `model_max_budget` as LiteLLM takes and shows it: model group -> `{budget_limit, time_period}`. */
export type ModelMaxBudget = Record<string, { budget_limit: number; time_period?: string }>;

/** What a team or a user carries besides its own fields. */
export interface BudgetFields {
  /** Model groups allowed; empty = every model. */
  models: string[];
  metadata: Record<string, unknown>;
  spend: number;
  /** Estimated cost of batches not yet ended (`batch_holds`, migration 0015); read only. */
  reservedSpend?: number;
  maxBudget?: number;
  softBudget?: number;
  budgetDuration?: string;
  /** Unix seconds. */
  budgetResetAt?: number;
  rpmLimit?: number;
  tpmLimit?: number;
  maxParallelRequests?: number;
  modelMaxBudget?: ModelMaxBudget;
  createdAt: number;
  updatedAt: number;
}

/** The fields an update may set; `null` clears a limit. */
export type BudgetFieldsPatch = {
  models?: string[];
  metadata?: Record<string, unknown>;
  maxBudget?: number | null;
  softBudget?: number | null;
  budgetDuration?: string | null;
  budgetResetAt?: number | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  maxParallelRequests?: number | null;
  modelMaxBudget?: ModelMaxBudget | null;
  /** Sets the spend (LiteLLM's `spend` on `/team/update` and `/user/update`). */
  spend?: number;
};

interface BudgetRow {
  models: string;
  metadata: string;
  spend: number;
  /** Written only by batch holds: read, never inserted. */
  reserved_spend?: number;
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: number | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  model_max_budget: string | null;
  created_at: number;
  updated_at: number;
}

export function budgetFieldsOf(row: BudgetRow): BudgetFields {
  return {
    models: parseJsonText<string[]>(row.models, []),
    metadata: parseJsonText<Record<string, unknown>>(row.metadata, {}),
    spend: Number(row.spend),
    reservedSpend: Number(row.reserved_spend ?? 0),
    ...(row.max_budget != null && { maxBudget: Number(row.max_budget) }),
    ...(row.soft_budget != null && { softBudget: Number(row.soft_budget) }),
    ...(row.budget_duration != null && { budgetDuration: row.budget_duration }),
    ...(row.budget_reset_at != null && { budgetResetAt: Number(row.budget_reset_at) }),
    ...(row.rpm_limit != null && { rpmLimit: Number(row.rpm_limit) }),
    ...(row.tpm_limit != null && { tpmLimit: Number(row.tpm_limit) }),
    ...(row.max_parallel_requests != null && { maxParallelRequests: Number(row.max_parallel_requests) }),
    ...(row.model_max_budget != null && { modelMaxBudget: parseJsonText<ModelMaxBudget>(row.model_max_budget, {}) }),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function budgetColumnsOf(fields: BudgetFields): BudgetRow {
  return {
    models: toJsonText(fields.models),
    metadata: toJsonText(fields.metadata),
    spend: fields.spend,
    max_budget: fields.maxBudget ?? null,
    soft_budget: fields.softBudget ?? null,
    budget_duration: fields.budgetDuration ?? null,
    budget_reset_at: fields.budgetResetAt ?? null,
    rpm_limit: fields.rpmLimit ?? null,
    tpm_limit: fields.tpmLimit ?? null,
    max_parallel_requests: fields.maxParallelRequests ?? null,
    model_max_budget: fields.modelMaxBudget === undefined ? null : toJsonText(fields.modelMaxBudget),
    created_at: fields.createdAt,
    updated_at: fields.updatedAt,
  };
}

/** The columns a patch sets (only those it names). */
export function budgetPatchColumns(patch: BudgetFieldsPatch): Partial<BudgetRow> {
  const values: Partial<BudgetRow> = {};
  if (patch.models !== undefined) values.models = toJsonText(patch.models);
  if (patch.metadata !== undefined) values.metadata = toJsonText(patch.metadata);
  if (patch.maxBudget !== undefined) values.max_budget = patch.maxBudget;
  if (patch.softBudget !== undefined) values.soft_budget = patch.softBudget;
  if (patch.budgetDuration !== undefined) values.budget_duration = patch.budgetDuration;
  if (patch.budgetResetAt !== undefined) values.budget_reset_at = patch.budgetResetAt;
  if (patch.rpmLimit !== undefined) values.rpm_limit = patch.rpmLimit;
  if (patch.tpmLimit !== undefined) values.tpm_limit = patch.tpmLimit;
  if (patch.maxParallelRequests !== undefined) values.max_parallel_requests = patch.maxParallelRequests;
  if (patch.modelMaxBudget !== undefined) values.model_max_budget = patch.modelMaxBudget === null ? null : toJsonText(patch.modelMaxBudget);
  if (patch.spend !== undefined) values.spend = patch.spend;
  return values;
}

/**
 * Rows of `table` whose budget period ended get their spend back to 0 and their next reset date:
 * one conditional UPDATE per row (on the reset date read), so instances doing it at once reset a
 * row once. Answers the ids reset (at most 1000 a call).
 */
export async function resetDueBudgets(
  // Kysely<any>: the same statement for three tables whose id columns differ.
  kysely: Kysely<any>,
  table: 'api_keys' | 'users' | 'teams',
  idColumn: 'id' | 'user_id' | 'team_id',
  periodSeconds: (duration: string) => number | undefined,
  now: number,
): Promise<string[]> {
  const due = (await kysely
    .selectFrom(table)
    .select([`${idColumn} as id`, 'budget_duration', 'budget_reset_at'])
    .where('budget_reset_at', 'is not', null)
    .where('budget_reset_at', '<=', now)
    .limit(1000)
    .execute()) as { id: string; budget_duration: string | null; budget_reset_at: number }[];
  const reset: string[] = [];
  for (const row of due) {
    const period = row.budget_duration === null ? undefined : periodSeconds(row.budget_duration);
    const result = await kysely
      .updateTable(table)
      .set({ spend: 0, budget_reset_at: period === undefined ? null : now + period })
      .where(idColumn, '=', row.id)
      .where('budget_reset_at', '=', Number(row.budget_reset_at))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) reset.push(row.id);
  }
  return reset;
}
