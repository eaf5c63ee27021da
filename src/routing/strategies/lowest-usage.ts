/**
 * `usage-based-routing-v2`: the deployment with the fewest tokens used this minute, among those
 * still under their `tpm` and `rpm` (LiteLLM's `LowestTPMLoggingHandler_v2`). When all are over,
 * the pool is left as it is: the deployments' own rpm/tpm admission answers the 429.
 */
import type { Deployment } from '../../spec/provider.ts';
import type { DeploymentLoad } from '../routing-stats.ts';
import { type StrategyFilter, lowestBy } from './lowest-by.ts';

function hasRoom(deployment: Deployment, load: DeploymentLoad | undefined): boolean {
  if (load === undefined) return true;
  if (deployment.tpm !== undefined && load.tokensThisMinute >= deployment.tpm) return false;
  return deployment.rpm === undefined || load.requestsThisMinute < deployment.rpm;
}

export const lowestUsage: StrategyFilter = (pool, load) => {
  const withRoom = pool.filter((deployment) => hasRoom(deployment, load.get(deployment.id)));
  return lowestBy(withRoom.length > 0 ? withRoom : pool, (deployment) => load.get(deployment.id)?.tokensThisMinute ?? 0);
};
