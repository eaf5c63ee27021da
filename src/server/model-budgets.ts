/**
 * `model_max_budget` of keys, users and teams (LiteLLM): a subject's spend on one model group,
 * summed from the spend ledger over the entry's `time_period` (or the subject's current budget
 * period), stops its requests to that group once it reaches the entry's `budget_limit`.
 *
 * Only requests to a model group that some subject of the caller budgets run a query, and those
 * sums are kept for `ttlMs` (as long as the key cache keeps the spend of `max_budget`), so a busy
 * key costs one ledger query per model per `ttlMs`, not one per request.
 */
import { parseDurationMs } from '../auth/duration.ts';
import { budgetSubjectsOf, modelBudgetExceeded, type BudgetSubject } from '../spec/budget-subjects.ts';
import type { Principal } from '../spec/principal.ts';
import type { SpendLogFilter, SpendLogStore } from '../storage/spend-log-store.ts';

const DEFAULT_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

export class ModelBudgets {
  readonly #spendLogs: Pick<SpendLogStore, 'totalSpend'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #sums = new Map<string, { spend: Promise<number>; at: number }>();

  constructor(spendLogs: Pick<SpendLogStore, 'totalSpend'>, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#spendLogs = spendLogs;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a subject of `principal` budgets `modelGroup` (the only case `check` queries). */
  static appliesTo(principal: Principal, modelGroup: string): boolean {
    return budgetSubjectsOf(principal).some((subject) => subject.modelMaxBudget?.[modelGroup] !== undefined);
  }

  /** Throws LiteLLM's 400 `budget_exceeded` when a subject's spend on `modelGroup` reached its budget. */
  async check(principal: Principal, modelGroup: string): Promise<void> {
    for (const subject of budgetSubjectsOf(principal)) {
      const budget = subject.modelMaxBudget?.[modelGroup];
      if (budget === undefined) continue;
      const spend = await this.#spendOf(subject, modelGroup, budget.timePeriod);
      if (spend >= budget.maxBudget) throw modelBudgetExceeded(subject, modelGroup, spend, budget.maxBudget);
    }
  }

  #spendOf(subject: BudgetSubject, modelGroup: string, timePeriod: string | undefined): Promise<number> {
    const cacheKey = `${subject.kind}\u0000${subject.id}\u0000${modelGroup}\u0000${timePeriod ?? ''}\u0000${subject.budgetResetAt ?? ''}`;
    const now = this.#now();
    const cached = this.#sums.get(cacheKey);
    if (cached !== undefined && now - cached.at < this.#ttlMs) return cached.spend;
    const filter: SpendLogFilter = { modelGroup, ...periodOf(subject, timePeriod, now) };
    if (subject.kind === 'key') filter.keyId = subject.id;
    else if (subject.kind === 'user') filter.userId = subject.id;
    else filter.teamId = subject.id;
    const spend = this.#spendLogs.totalSpend(filter);
    // A failed sum is not kept: the next request asks again.
    spend.catch(() => this.#sums.delete(cacheKey));
    if (this.#sums.size >= MAX_ENTRIES) this.#sums.clear();
    this.#sums.set(cacheKey, { spend, at: now });
    return spend;
  }
}

/** The window the spend is summed over: the entry's `time_period` back from now, else the subject's budget period. */
function periodOf(subject: BudgetSubject, timePeriod: string | undefined, nowMs: number): { from?: number } {
  const periodMs = timePeriod === undefined ? undefined : parseDurationMs(timePeriod);
  if (periodMs !== undefined) return { from: (nowMs - periodMs) / 1000 };
  const budgetMs = subject.budgetDuration === undefined ? undefined : parseDurationMs(subject.budgetDuration);
  if (budgetMs !== undefined && subject.budgetResetAt !== undefined) return { from: subject.budgetResetAt - budgetMs / 1000 };
  return {};
}
