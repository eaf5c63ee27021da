/**
 * Puts the spend of keys, users and teams back to 0 when their `budget_duration` period ends
 * (LiteLLM's budget reset), on every instance: each row is reset once (`resetDueBudgets` updates
 * on the reset date it read). A key's cached principal (with its user's and team's spend) sees
 * the reset within the key cache's TTL.
 */
import { parseDurationMs } from '../auth/duration.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyStore } from '../storage/key-store.ts';
import type { TeamStore } from '../storage/team-store.ts';
import type { UserStore } from '../storage/user-store.ts';
import { PeriodicJob } from './periodic-job.ts';

const RESET_CHECK_MS = 10_000;
const MAX_PER_RUN = 1000;

type Resettable = Pick<KeyStore | UserStore | TeamStore, 'resetBudgets'>;

/** The job keeps its name (`key-budget-reset`) from before users and teams had budgets. */
export function createKeyBudgetResetJob(keys: Resettable, logger: Logger, intervalMs = RESET_CHECK_MS, owners: { users?: Resettable; teams?: Resettable } = {}): PeriodicJob {
  const periodSeconds = (duration: string) => {
    const ms = parseDurationMs(duration);
    return ms === undefined ? undefined : Math.max(1, Math.round(ms / 1000));
  };
  return new PeriodicJob('key-budget-reset', intervalMs, logger, async () => {
    const [resetKeys, resetUsers, resetTeams] = await Promise.all([
      keys.resetBudgets(periodSeconds),
      owners.users?.resetBudgets(periodSeconds) ?? [],
      owners.teams?.resetBudgets(periodSeconds) ?? [],
    ]);
    if (resetKeys.length + resetUsers.length + resetTeams.length > 0) {
      logger.info({ keys: resetKeys.length, users: resetUsers.length, teams: resetTeams.length }, 'budgets reset for a new period');
    }
    // More due than one run takes: run again at once.
    return resetKeys.length === MAX_PER_RUN || resetUsers.length === MAX_PER_RUN || resetTeams.length === MAX_PER_RUN;
  });
}
