/**
 * What holds an end user's requests back (the end user a request names: its `user` field or
 * LiteLLM's end-user headers, `spec/gateway-request-fields.ts` `endUserOf`), as LiteLLM's proxy
 * does: a customer blocked with `/customer/block` is refused (403 `end_user_blocked`), and one at
 * or over its budget gets LiteLLM's 400 `budget_exceeded`. The budget is the customer's own
 * `max_budget` (for each `budget_duration` period since its creation, else all time), else
 * `litellm_settings.max_end_user_budget` (all time, as LiteLLM counts it). The spend is summed from
 * the spend ledger's `end_user` column (indexed), whoever's key sent the requests.
 *
 * A request that names no end user costs nothing here, nor does one that does while there is no
 * customer and no `max_end_user_budget` (whether any customer exists is asked at most once per
 * `ttlMs`, off the request's path). Otherwise the customer and its
 * spend are kept for `ttlMs` (as the key cache keeps a key's), so a busy end user costs two small
 * queries per `ttlMs`; a change through `/customer/*` on this instance is seen at once (`forget`),
 * on another within `ttlMs`, and an end user may overshoot by what they spend meanwhile.
 */
import { parseDurationMs } from '../auth/duration.ts';
import { endUserOf } from '../spec/gateway-request-fields.ts';
import { BudgetExceededError, PermissionDeniedError } from '../spec/errors.ts';
import type { EndUserRecord, EndUserStore } from '../storage/end-user-store.ts';
import type { SpendLogStore } from '../storage/spend-log-store.ts';

const DEFAULT_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

interface EndUserState {
  readonly customer: EndUserRecord | undefined;
  readonly spend: number;
}

export class EndUserLimits {
  readonly #customers: Pick<EndUserStore, 'find' | 'any'>;
  readonly #spendLogs: Pick<SpendLogStore, 'totalSpend'>;
  readonly #defaultBudget: number | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #states = new Map<string, { state: Promise<EndUserState>; at: number }>();
  /** Whether a customer exists, as last asked (unknown until the first answer: then assumed). */
  #anyCustomers: { value: boolean; at: number } | undefined;
  #askingForCustomers = false;
  /** Counts `forget`s: an answer asked before the latest one may predate the change and is not kept. */
  #changes = 0;

  constructor(
    customers: Pick<EndUserStore, 'find' | 'any'>,
    spendLogs: Pick<SpendLogStore, 'totalSpend'>,
    options: { maxEndUserBudget?: number; ttlMs?: number; now?: () => number } = {},
  ) {
    this.#customers = customers;
    this.#spendLogs = spendLogs;
    this.#defaultBudget = options.maxEndUserBudget;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Throws when `endUser` is blocked or over its budget; undefined (no wait) when no end user is named. */
  check(endUser: string | undefined): Promise<void> | undefined {
    if (endUser === undefined) return undefined;
    if (this.#defaultBudget === undefined && !this.#mayHaveCustomers()) return undefined;
    return this.#stateOf(endUser).then(({ customer, spend }) => {
      if (customer?.blocked === true) {
        throw new PermissionDeniedError(`End User=${endUser} is blocked. Ask the proxy admin to unblock it (/customer/unblock).`, { code: 'end_user_blocked', param: 'user' });
      }
      const budget = customer?.maxBudget ?? this.#defaultBudget;
      if (budget !== undefined && budget !== null && spend >= budget) {
        throw new BudgetExceededError(spend, budget, `ExceededBudget: End User=${endUser} over budget. Spend=${spend}, Budget=${budget}`);
      }
    });
  }

  /** An end user's spend in its customer's current budget period (all time without one). */
  spendOf(endUser: string, customer: EndUserRecord | undefined): Promise<number> {
    const from = customer === undefined ? undefined : periodStart(customer, this.#now());
    return this.#spendLogs.totalSpend({ endUser, ...(from !== undefined && { from }) });
  }

  /** Drops what is kept about these end users (a `/customer/*` change on this instance). */
  forget(endUsers: readonly string[]): void {
    for (const endUser of endUsers) this.#states.delete(endUser);
    this.#anyCustomers = undefined;
    this.#changes += 1;
  }

  /** Whether any customer may exist: the last answer, asked again in the background once it is `ttlMs` old. */
  #mayHaveCustomers(): boolean {
    const now = this.#now();
    const known = this.#anyCustomers;
    if ((known === undefined || now - known.at >= this.#ttlMs) && !this.#askingForCustomers) {
      this.#askingForCustomers = true;
      const asked = this.#changes;
      this.#customers.any().then(
        (value) => {
          if (asked === this.#changes) this.#anyCustomers = { value, at: this.#now() };
          this.#askingForCustomers = false;
        },
        () => {
          this.#askingForCustomers = false;
        },
      );
    }
    return known?.value ?? true;
  }

  #stateOf(endUser: string): Promise<EndUserState> {
    const now = this.#now();
    const kept = this.#states.get(endUser);
    if (kept !== undefined && now - kept.at < this.#ttlMs) return kept.state;
    const state = this.#customers.find(endUser).then(async (customer) => ({ customer, spend: await this.spendOf(endUser, customer) }));
    // A failed read is not kept: the next request asks again.
    state.catch(() => this.#states.delete(endUser));
    if (this.#states.size >= MAX_ENTRIES) this.#states.clear();
    this.#states.set(endUser, { state, at: now });
    return state;
  }
}

/** Unix seconds: the start of the customer's current `budget_duration` period, counted from its creation; undefined without one. */
export function periodStart(customer: Pick<EndUserRecord, 'budgetDuration' | 'createdAt'>, nowMs: number): number | undefined {
  const durationMs = customer.budgetDuration === null ? undefined : parseDurationMs(customer.budgetDuration);
  if (durationMs === undefined || durationMs <= 0) return undefined;
  const elapsedMs = Math.max(0, nowMs - customer.createdAt * 1000);
  return customer.createdAt + (Math.floor(elapsedMs / durationMs) * durationMs) / 1000;
}

/**
 * A model request's end user, as every model route reads it: named on the request's context (its
 * spend row's `end_user`), then held to its customer's block and budget. Undefined (no wait) when
 * the request names none, or when no limit can apply.
 */
export function admitEndUser(
  request: { readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly portico: { endUser?: string } },
  body: Record<string, unknown>,
  userHeaderName: string | undefined,
  limits: EndUserLimits | undefined,
): Promise<void> | undefined {
  const endUser = endUserOf(request.headers, body, userHeaderName);
  if (endUser === undefined) return undefined;
  request.portico.endUser = endUser;
  return limits?.check(endUser);
}
