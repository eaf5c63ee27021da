/**
 * Puts keys' spend back to 0 when their `budget_duration` period ends (LiteLLM's budget reset),
 * on every instance: each key is reset once (`KeyStore.resetBudgets` updates on the reset date it
 * read). A key's cached principal sees the reset within the key cache's ten seconds.
 */
import { parseDurationMs } from '../auth/duration.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyStore } from '../storage/key-store.ts';
import { PeriodicJob } from './periodic-job.ts';

const RESET_CHECK_MS = 10_000;

export function createKeyBudgetResetJob(keys: KeyStore, logger: Logger, intervalMs = RESET_CHECK_MS): PeriodicJob {
  return new PeriodicJob('key-budget-reset', intervalMs, logger, async () => {
    const reset = await keys.resetBudgets((duration) => {
      const ms = parseDurationMs(duration);
      return ms === undefined ? undefined : Math.max(1, Math.round(ms / 1000));
    });
    if (reset.length > 0) logger.info({ keys: reset.length }, 'key budgets reset for a new period');
    return reset.length === 1000;
  });
}
