/**
 * What one request prefers among a group's deployments, beyond the configured routing strategy:
 * a narrowing of the pool the router picks from (after leaving out cooling and tried
 * deployments), which the strategy, or the weighted shuffle, then chooses within. A batch create
 * prefers deployments with room in their enqueued-token quota (`strategies/enqueued-token-room.ts`).
 */
import type { Deployment } from '../spec/provider.ts';

/** Narrows a pool to the deployments the request prefers; never empty for a non-empty pool. */
export type DeploymentPreference = (pool: readonly Deployment[]) => readonly Deployment[];

/** `choose` of `pickDeployment` applied to the preferred part of each pool. */
export function choosingPreferred(
  prefer: DeploymentPreference | undefined,
  choose: (pool: readonly Deployment[]) => Deployment | undefined,
): (pool: readonly Deployment[]) => Deployment | undefined {
  if (prefer === undefined) return choose;
  return (pool) => {
    const preferred = pool.length <= 1 ? pool : prefer(pool);
    return choose(preferred.length > 0 ? preferred : pool);
  };
}
