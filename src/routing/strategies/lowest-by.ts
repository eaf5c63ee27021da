/** What every load-aware strategy is: a narrowing of the pool to the deployments it prefers. */
import type { Deployment } from '../../spec/provider.ts';
import type { DeploymentLoad } from '../routing-stats.ts';

/** Narrows a pool to the deployments the strategy prefers (never empty for a non-empty pool). */
export type StrategyFilter = (pool: readonly Deployment[], load: ReadonlyMap<string, DeploymentLoad>) => readonly Deployment[];

/** The deployments of `pool` with the lowest `score` (all of them when the scores tie). */
export function lowestBy(pool: readonly Deployment[], score: (deployment: Deployment) => number): readonly Deployment[] {
  let best = Number.POSITIVE_INFINITY;
  let chosen: Deployment[] = [];
  for (const deployment of pool) {
    const value = score(deployment);
    if (value < best) {
      best = value;
      chosen = [deployment];
    } else if (value === best) {
      chosen.push(deployment);
    }
  }
  return chosen.length > 0 ? chosen : pool;
}
