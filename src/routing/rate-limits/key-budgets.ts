/**
 * The `rpm_limit`/`tpm_limit` of a virtual key, of its user and of its team (LiteLLM
 * `/key/generate`, `/user/new`, `/team/new`) applied to the lines of the emulated batches the key
 * created, over the same counters as their live requests (`coordination/live-rate-limits.ts`:
 * `key:<id>:rpm`, `user:<id>:rpm`, `team:<id>:rpm`), so a team's batches and its keys' live
 * traffic share the team's one limit, as two keys of one team share it live.
 *
 * - Before leasing lines of a key's batch, the engine takes them from the rpm of every subject
 *   with a limit (`admitLines`): as many as the one with the least room allows. A subject's
 *   batches may use at most `1 - live_traffic_share` of its limit (at least one request a minute
 *   of a positive limit), leaving the rest to its live requests.
 * - Tokens: no line starts while any subject's window of tokens is at or over that share of its
 *   `tpm_limit`; each finished line's tokens are charged to every subject with a `tpm_limit`
 *   (`recordTokens`).
 * - Over a limit, the batch waits (is paced): its lines are not leased, never failed.
 */
import { subjectCounterKey, type SubjectRateLimits } from '../../spec/budget-subjects.ts';
import { RATE_WINDOW_MS } from './deployment-budgets.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const keyRpmKey = (keyId: string): string => `key:${keyId}:rpm`;
export const keyTpmKey = (keyId: string): string => `key:${keyId}:tpm`;

/** The limits a key's batch lines count against: those of the key, its user and its team that have one (absent = none). */
export type KeyLimits = readonly SubjectRateLimits[];

/** The limits of these keys' lines (keys without any, or deleted, may be left out). */
export type KeyLimitsLookup = (keyIds: readonly string[]) => Promise<ReadonlyMap<string, KeyLimits>>;

const rpmCounter = (subject: SubjectRateLimits): string => `${subjectCounterKey(subject)}:rpm`;
const tpmCounter = (subject: SubjectRateLimits): string => `${subjectCounterKey(subject)}:tpm`;

export class KeyBudgets {
  readonly #limiter: RateLimiter;
  readonly #share: number;

  constructor(limiter: RateLimiter, liveTrafficShare: number) {
    this.#limiter = limiter;
    this.#share = liveTrafficShare;
  }

  /**
   * How many of `wanted` lines the limits let start now, taken from the rpm of every subject
   * with one. A subject with less room lowers the count, and what the subjects before it took
   * beyond that is given back, so all of them end up charged the same number of lines.
   */
  async admitLines(limits: KeyLimits, wanted: number): Promise<number> {
    if (wanted <= 0) return 0;
    for (const subject of limits) {
      const tpm = this.#batchShare(subject.tpmLimit);
      if (tpm !== undefined && (tpm === 0 || (await this.#limiter.usage(tpmCounter(subject), RATE_WINDOW_MS)) >= tpm)) return 0;
    }
    let admitted = wanted;
    const taken: string[] = [];
    const giveBack = (count: number) => Promise.all(taken.map((counter) => (count > 0 ? this.#limiter.record(counter, -count, RATE_WINDOW_MS) : undefined)));
    for (const subject of limits) {
      const rpm = this.#batchShare(subject.rpmLimit);
      if (rpm === undefined) continue;
      const room = rpm === 0 ? 0 : await this.#take(rpmCounter(subject), admitted, rpm);
      if (room < admitted) await giveBack(admitted - room);
      if (room === 0) return 0;
      admitted = room;
      taken.push(rpmCounter(subject));
    }
    return admitted;
  }

  /** Gives back requests admitted for lines that were not leased. */
  async returnUnused(limits: KeyLimits, count: number): Promise<void> {
    if (count <= 0) return;
    for (const subject of limits) if (subject.rpmLimit !== undefined) await this.#limiter.record(rpmCounter(subject), -count, RATE_WINDOW_MS);
  }

  /** Charges a finished line's tokens to every subject with a `tpm_limit`. */
  async recordTokens(limits: KeyLimits, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    for (const subject of limits) if (subject.tpmLimit !== undefined) await this.#limiter.record(tpmCounter(subject), tokens, RATE_WINDOW_MS);
  }

  /** Takes up to `wanted` from `counter` within `limit`; answers how many it took. */
  async #take(counter: string, wanted: number, limit: number): Promise<number> {
    const all = await this.#limiter.tryAcquire(counter, wanted, limit, RATE_WINDOW_MS);
    if (all.granted) return wanted;
    const room = Math.min(wanted, Math.floor(limit - all.used));
    if (room <= 0) return 0;
    return (await this.#limiter.tryAcquire(counter, room, limit, RATE_WINDOW_MS)).granted ? room : 0;
  }

  /** The part of a subject's limit its batches may use: at least 1 of a positive limit. */
  #batchShare(limit: number | undefined): number | undefined {
    if (limit === undefined) return undefined;
    if (limit <= 0) return 0;
    return Math.max(1, Math.floor(limit * (1 - this.#share)));
  }
}
