/**
 * The budget subjects of a caller: its key, the key's user and the key's team (LiteLLM's three
 * levels of `max_budget`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`, `model_max_budget`),
 * each with its own spend. Read with the key (the key cache keeps them up to its TTL), so
 * checking them costs no database round trip; every check (live requests, batch creates, batch
 * cost reservations, budget webhooks) goes through `budgetSubjectsOf`.
 */
import { BudgetExceededError } from './errors.ts';
import type { Principal } from './principal.ts';

export type BudgetSubjectKind = 'key' | 'user' | 'team';

/** One entry of `model_max_budget` (LiteLLM's `BudgetConfig`: `budget_limit`, `time_period`). */
export interface ModelBudget {
  readonly maxBudget: number;
  /** `1d`, `30d`, ...: the spend counted is that of this last period; absent: the subject's budget period. */
  readonly timePeriod?: string;
}

export interface BudgetSubject {
  readonly kind: BudgetSubjectKind;
  /** The key's id (`token`), the `user_id` or the `team_id`. */
  readonly id: string;
  /** Spend (USD) of the current budget period when the subject was read. */
  readonly spend: number;
  readonly maxBudget?: number;
  readonly softBudget?: number;
  readonly budgetDuration?: string;
  /** Unix seconds: when the spend next goes back to 0. */
  readonly budgetResetAt?: number;
  readonly rpmLimit?: number;
  readonly tpmLimit?: number;
  readonly maxParallelRequests?: number;
  /** Model group -> its budget for this subject. */
  readonly modelMaxBudget?: Readonly<Record<string, ModelBudget>>;
}

/**
 * A subject's requests and tokens per minute (`rpm_limit`, `tpm_limit`), as the batch engine paces
 * the lines of a key's batches by them (read by `KeyStore.limitsOf`, applied by `KeyBudgets`).
 */
export type SubjectRateLimits = Pick<BudgetSubject, 'kind' | 'id' | 'rpmLimit' | 'tpmLimit'>;

const NO_SUBJECTS: readonly BudgetSubject[] = Object.freeze([]);

/** Key first, then user, then team; empty for the master key. */
export function budgetSubjectsOf(principal: Principal): readonly BudgetSubject[] {
  return principal.budgetSubjects ?? NO_SUBJECTS;
}

/** The counter name of a subject in the rate limiters (`key:<id>`, `user:<id>`, `team:<id>`). */
export function subjectCounterKey(subject: Pick<BudgetSubject, 'kind' | 'id'>): string {
  return `${subject.kind}:${subject.id}`;
}

/** Whether a subject's spend has reached its `max_budget`. */
export function isOverBudget(subject: BudgetSubject): boolean {
  return subject.maxBudget !== undefined && subject.spend >= subject.maxBudget;
}

/**
 * Throws LiteLLM's 400 `budget_exceeded` for the first subject of `principal` whose spend reached
 * its `max_budget` (key, then user, then team); the message names the subject as LiteLLM does.
 */
export function assertWithinBudgets(principal: Principal): void {
  for (const subject of budgetSubjectsOf(principal)) {
    if (isOverBudget(subject)) throw budgetExceeded(subject);
  }
  // A principal built before budget subjects existed (tests' fakes) still carries its key budget.
  const budget = principal.budget;
  if (principal.budgetSubjects === undefined && budget !== undefined && budget.spend >= budget.max) throw new BudgetExceededError(budget.spend, budget.max);
}

export function budgetExceeded(subject: BudgetSubject): BudgetExceededError {
  const spend = subject.spend;
  const max = subject.maxBudget ?? 0;
  switch (subject.kind) {
    case 'key':
      return new BudgetExceededError(spend, max);
    case 'user':
      return new BudgetExceededError(spend, max, `ExceededBudget: User=${subject.id} over budget. Spend=${spend}, Budget=${max}`);
    case 'team':
      return new BudgetExceededError(spend, max, `Budget has been exceeded! Team=${subject.id} Current cost: ${spend}, Max budget: ${max}`);
  }
}

/** LiteLLM's words for a subject over its `model_max_budget`. */
export function modelBudgetExceeded(subject: BudgetSubject, modelGroup: string, spend: number, max: number): BudgetExceededError {
  const who = subject.kind === 'key' ? 'Virtual Key' : subject.kind === 'user' ? 'User' : 'Team';
  return new BudgetExceededError(spend, max, `LiteLLM ${who}: ${subject.id}, exceeded budget for model=${modelGroup}. Current cost: ${spend}, Max budget: ${max}`);
}

/**
 * A batch whose reserved cost would take a subject past its `max_budget` (spend, plus what the
 * subject's batches not yet ended reserved, plus this one's estimate): LiteLLM's 400
 * `budget_exceeded`, its words for the subject, with the reservation spelled out.
 */
export function reservationExceedsBudget(what: { kind: BudgetSubjectKind; id: string; spend: number; reserved: number; reservation: number; maxBudget: number }): BudgetExceededError {
  const { spend, reserved, reservation, maxBudget } = what;
  const detail = `Reserved by running batches: ${reserved}, this batch's estimated cost: ${reservation}`;
  switch (what.kind) {
    case 'key':
      return new BudgetExceededError(spend, maxBudget, `Budget has been exceeded! Current cost: ${spend}, Max budget: ${maxBudget}. ${detail}`);
    case 'user':
      return new BudgetExceededError(spend, maxBudget, `ExceededBudget: User=${what.id} over budget. Spend=${spend}, Budget=${maxBudget}. ${detail}`);
    case 'team':
      return new BudgetExceededError(spend, maxBudget, `Budget has been exceeded! Team=${what.id} Current cost: ${spend}, Max budget: ${maxBudget}. ${detail}`);
  }
}
