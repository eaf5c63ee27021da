/**
 * A virtual key's `rpm_limit`/`tpm_limit` (LiteLLM `/key/generate`) applied to the lines of the
 * emulated batches it created, over the same counters as its live requests
 * (`coordination/live-rate-limits.ts`), so a key's batches and its live traffic share one limit.
 *
 * - Before leasing lines of a key's batch, the engine takes them from the key's rpm
 *   (`admitLines`); the key's batches may use at most `1 - live_traffic_share` of it (at least
 *   one request a minute of a positive limit), leaving the rest to the key's live requests.
 * - Tokens: no line starts while the window's tokens are at or over that share of `tpm_limit`;
 *   each finished line's tokens are charged to the key (`recordTokens`).
 * - Over the limit, the batch waits (is paced): its lines are not leased, never failed.
 */
import { RATE_WINDOW_MS } from './deployment-budgets.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const keyRpmKey = (keyId: string): string => `key:${keyId}:rpm`;
export const keyTpmKey = (keyId: string): string => `key:${keyId}:tpm`;

/** A key's limits per minute; absent = none. */
export interface KeyLimits {
  rpmLimit?: number;
  tpmLimit?: number;
}

/** The limits of these keys (deleted or unlimited keys may be left out). */
export type KeyLimitsLookup = (keyIds: readonly string[]) => Promise<ReadonlyMap<string, KeyLimits>>;

export class KeyBudgets {
  readonly #limiter: RateLimiter;
  readonly #share: number;

  constructor(limiter: RateLimiter, liveTrafficShare: number) {
    this.#limiter = limiter;
    this.#share = liveTrafficShare;
  }

  /** How many of `wanted` lines the key's limits let start now (taken from its rpm). */
  async admitLines(keyId: string, limits: KeyLimits, wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    const tpm = this.#batchShare(limits.tpmLimit);
    if (tpm !== undefined && (tpm === 0 || (await this.#limiter.usage(keyTpmKey(keyId), RATE_WINDOW_MS)) >= tpm)) return 0;
    const rpm = this.#batchShare(limits.rpmLimit);
    if (rpm === undefined) return wanted;
    if (rpm === 0) return 0;
    const key = keyRpmKey(keyId);
    const all = await this.#limiter.tryAcquire(key, wanted, rpm, RATE_WINDOW_MS);
    if (all.granted) return wanted;
    const room = Math.floor(rpm - all.used);
    if (room <= 0) return 0;
    return (await this.#limiter.tryAcquire(key, room, rpm, RATE_WINDOW_MS)).granted ? room : 0;
  }

  /** Gives back requests admitted for lines that were not leased. */
  async returnUnused(keyId: string, limits: KeyLimits, count: number): Promise<void> {
    if (count > 0 && limits.rpmLimit !== undefined) await this.#limiter.record(keyRpmKey(keyId), -count, RATE_WINDOW_MS);
  }

  async recordTokens(keyId: string, tokens: number): Promise<void> {
    if (tokens > 0) await this.#limiter.record(keyTpmKey(keyId), tokens, RATE_WINDOW_MS);
  }

  /** The part of a key's limit its batches may use: at least 1 of a positive limit. */
  #batchShare(limit: number | undefined): number | undefined {
    if (limit === undefined) return undefined;
    if (limit <= 0) return 0;
    return Math.max(1, Math.floor(limit * (1 - this.#share)));
  }
}
