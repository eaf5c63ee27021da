/**
 * LiteLLM's `litellm_settings.max_end_user_budget`: what each end user (the request's `user`, or
 * the end-user headers: `spec/gateway-request-fields.ts` `endUserOf`) may spend, summed from the
 * spend ledger's `end_user` column over all time, as LiteLLM counts an end user's spend without a
 * budget period. A request for an end user at or over it is refused with LiteLLM's 400
 * `budget_exceeded`, whoever's key sends it; a request that names no end user is not limited.
 *
 * The sums are kept for `ttlMs` (as the key cache keeps a key's spend), so a busy end user costs
 * one indexed ledger query per `ttlMs`; an end user may overshoot by what they spend meanwhile.
 */
import { BudgetExceededError } from '../spec/errors.ts';
import type { SpendLogStore } from '../storage/spend-log-store.ts';

const DEFAULT_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

export class EndUserBudgets {
  readonly #spendLogs: Pick<SpendLogStore, 'totalSpend'>;
  readonly #maxBudget: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #sums = new Map<string, { spend: Promise<number>; at: number }>();

  constructor(spendLogs: Pick<SpendLogStore, 'totalSpend'>, maxBudget: number, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#spendLogs = spendLogs;
    this.#maxBudget = maxBudget;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Throws LiteLLM's 400 `budget_exceeded` when `endUser` has spent the budget; undefined (no wait) when no end user is named. */
  check(endUser: string | undefined): Promise<void> | undefined {
    if (endUser === undefined) return undefined;
    return this.#spendOf(endUser).then((spend) => {
      if (spend >= this.#maxBudget) {
        throw new BudgetExceededError(spend, this.#maxBudget, `ExceededBudget: End User=${endUser} over budget. Spend=${spend}, Budget=${this.#maxBudget}`);
      }
    });
  }

  #spendOf(endUser: string): Promise<number> {
    const now = this.#now();
    const cached = this.#sums.get(endUser);
    if (cached !== undefined && now - cached.at < this.#ttlMs) return cached.spend;
    const spend = this.#spendLogs.totalSpend({ endUser });
    // A failed sum is not kept: the next request asks again.
    spend.catch(() => this.#sums.delete(endUser));
    if (this.#sums.size >= MAX_ENTRIES) this.#sums.clear();
    this.#sums.set(endUser, { spend, at: now });
    return spend;
  }
}
