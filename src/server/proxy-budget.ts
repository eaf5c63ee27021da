/**
 * LiteLLM's budget of the whole proxy (`litellm_settings.max_budget`, `budget_duration`): once
 * the spend of every caller together, summed from the spend ledger over the window, is above
 * `max_budget`, model requests are refused with LiteLLM's 400 `budget_exceeded` ("Budget has been
 * exceeded! Current cost: ..., Max budget: ..."). As in LiteLLM: only above the budget (not at
 * it), only on the model routes (the admin routes and `/v1/models` keep working), and never for
 * the master key, whose requests LiteLLM answers before its budget checks.
 *
 * The sum is one ledger query per `ttlMs` (the key cache's lifetime, as for `max_budget` of keys),
 * shared by every request meanwhile, so the proxy may overshoot by what it spends within that time
 * and the ledger's flush interval.
 */
import type { ProxyBudgetConfig } from '../config/types.ts';
import { BudgetExceededError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { SpendLogStore } from '../storage/spend-log-store.ts';

const DEFAULT_TTL_MS = 10_000;

export class ProxyBudget {
  readonly #spendLogs: Pick<SpendLogStore, 'totalSpend'>;
  readonly #config: ProxyBudgetConfig;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #sum: { spend: Promise<number>; at: number } | undefined;

  constructor(spendLogs: Pick<SpendLogStore, 'totalSpend'>, config: ProxyBudgetConfig, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#spendLogs = spendLogs;
    this.#config = config;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether `check` applies to a request of `principal`: every caller but the master key. */
  static appliesTo(principal: Principal | null): boolean {
    return principal === null || !principal.isMaster;
  }

  /** Throws LiteLLM's 400 `budget_exceeded` when the proxy's spend is above its budget. */
  async check(): Promise<void> {
    const spend = await this.#spend();
    if (spend > this.#config.maxBudget) throw new BudgetExceededError(spend, this.#config.maxBudget);
  }

  #spend(): Promise<number> {
    const now = this.#now();
    if (this.#sum !== undefined && now - this.#sum.at < this.#ttlMs) return this.#sum.spend;
    const windowMs = this.#config.windowMs;
    const spend = this.#spendLogs.totalSpend(windowMs === undefined ? {} : { from: (now - windowMs) / 1000 });
    const sum = { spend, at: now };
    // A failed sum is not kept: the next request asks again.
    spend.catch(() => {
      if (this.#sum === sum) this.#sum = undefined;
    });
    this.#sum = sum;
    return spend;
  }
}
