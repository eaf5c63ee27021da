/**
 * The budget and limit fields keys, users and teams share, with LiteLLM's names
 * (`max_budget`, `soft_budget`, `budget_duration`, `rpm_limit`, `tpm_limit`,
 * `max_parallel_requests`, `model_max_budget`, `models`, `metadata`): one request schema, one
 * mapping to a store patch and one view, so the three admin APIs cannot drift apart.
 */
import { z } from 'zod';
import { parseDurationMs } from '../../auth/duration.ts';
import type { BudgetFields, BudgetFieldsPatch, ModelMaxBudget } from '../../storage/budget-columns.ts';
import { InvalidRequestError } from '../../spec/errors.ts';
import { echoName } from '../model-access.ts';
import type { Router } from '../../routing/router.ts';

const duration = (examples: string) =>
  z.string().refine((text) => parseDurationMs(text) !== undefined, `expected a duration such as ${examples}`);

/** `{"gpt-4o": {"budget_limit": 0.5, "time_period": "1d"}}`, or LiteLLM's older `{"gpt-4o": 0.5}`. */
const modelMaxBudget = z.record(
  z.string().min(1),
  z.union([z.number().nonnegative(), z.looseObject({ budget_limit: z.number().nonnegative(), time_period: duration('"1d", "30d"').nullish() })]),
);

export const budgetFieldSchemas = {
  models: z.array(z.string().min(1)).optional(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  max_budget: z.number().nonnegative().nullish(),
  soft_budget: z.number().nonnegative().nullish(),
  budget_duration: duration('"30s", "30m", "1h", "30d", "1mo"').nullish(),
  rpm_limit: z.number().int().nonnegative().nullish(),
  tpm_limit: z.number().int().nonnegative().nullish(),
  max_parallel_requests: z.number().int().nonnegative().nullish(),
  model_max_budget: modelMaxBudget.nullish(),
};

type BudgetBody = { [K in keyof typeof budgetFieldSchemas]?: z.output<(typeof budgetFieldSchemas)[K]> };

export function modelMaxBudgetOf(body: BudgetBody['model_max_budget']): ModelMaxBudget | null | undefined {
  if (body === undefined || body === null) return body;
  const budgets: ModelMaxBudget = {};
  for (const [model, entry] of Object.entries(body)) {
    budgets[model] = typeof entry === 'number' ? { budget_limit: entry } : { budget_limit: entry.budget_limit, ...(entry.time_period != null && { time_period: entry.time_period }) };
  }
  return budgets;
}

/**
 * The patch for the fields the body names (an update leaves the others as they are; `null`
 * clears a limit). A new `budget_duration` starts a new period now.
 */
export function budgetPatchOf(body: BudgetBody, nowMs: number = Date.now()): BudgetFieldsPatch {
  const patch: BudgetFieldsPatch = {};
  if (body.models !== undefined) patch.models = body.models;
  if (body.metadata !== undefined) patch.metadata = body.metadata ?? {};
  if (body.max_budget !== undefined) patch.maxBudget = body.max_budget;
  if (body.soft_budget !== undefined) patch.softBudget = body.soft_budget;
  if (body.budget_duration !== undefined) {
    patch.budgetDuration = body.budget_duration;
    patch.budgetResetAt = body.budget_duration === null ? null : Math.floor((nowMs + (parseDurationMs(body.budget_duration) ?? 0)) / 1000);
  }
  if (body.rpm_limit !== undefined) patch.rpmLimit = body.rpm_limit;
  if (body.tpm_limit !== undefined) patch.tpmLimit = body.tpm_limit;
  if (body.max_parallel_requests !== undefined) patch.maxParallelRequests = body.max_parallel_requests;
  if (body.model_max_budget !== undefined) patch.modelMaxBudget = modelMaxBudgetOf(body.model_max_budget);
  return patch;
}

/** A new team's or user's fields from its create body. */
export function newBudgetFields(body: BudgetBody, nowMs: number = Date.now()): BudgetFields {
  const patch = budgetPatchOf(body, nowMs);
  const now = Math.floor(nowMs / 1000);
  return {
    models: patch.models ?? [],
    metadata: patch.metadata ?? {},
    spend: 0,
    ...(patch.maxBudget != null && { maxBudget: patch.maxBudget }),
    ...(patch.softBudget != null && { softBudget: patch.softBudget }),
    ...(patch.budgetDuration != null && { budgetDuration: patch.budgetDuration }),
    ...(patch.budgetResetAt != null && { budgetResetAt: patch.budgetResetAt }),
    ...(patch.rpmLimit != null && { rpmLimit: patch.rpmLimit }),
    ...(patch.tpmLimit != null && { tpmLimit: patch.tpmLimit }),
    ...(patch.maxParallelRequests != null && { maxParallelRequests: patch.maxParallelRequests }),
    ...(patch.modelMaxBudget != null && { modelMaxBudget: patch.modelMaxBudget }),
    createdAt: now,
    updatedAt: now,
  };
}

/** LiteLLM's field names for a team's or user's budget fields. */
export function budgetView(fields: BudgetFields) {
  return {
    models: fields.models,
    metadata: fields.metadata,
    spend: fields.spend,
    reserved_spend: fields.reservedSpend ?? 0,
    max_budget: fields.maxBudget ?? null,
    soft_budget: fields.softBudget ?? null,
    budget_duration: fields.budgetDuration ?? null,
    budget_reset_at: isoOrNull(fields.budgetResetAt ?? null),
    rpm_limit: fields.rpmLimit ?? null,
    tpm_limit: fields.tpmLimit ?? null,
    max_parallel_requests: fields.maxParallelRequests ?? null,
    model_max_budget: fields.modelMaxBudget ?? {},
    created_at: isoOrNull(fields.createdAt),
    updated_at: isoOrNull(fields.updatedAt),
  };
}

export function isoOrNull(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString();
}

/** A 400 naming the first model group of `models` (or of `model_max_budget`) that does not exist. */
export function checkModelGroups(router: Pick<Router, 'hasModelGroup' | 'isAccessGroup'>, models: readonly string[] | undefined, param = 'models'): void {
  const unknown = (models ?? []).find((model) => !model.includes('*') && !router.hasModelGroup(model) && !(param === 'models' && router.isAccessGroup(model)));
  if (unknown !== undefined) {
    throw new InvalidRequestError(`Unknown model group \`${echoName(unknown)}\` in '${param}'.`, { param, code: 'model_not_found' });
  }
}
