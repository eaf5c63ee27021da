/** `least-busy`: the deployments with the fewest requests in flight (LiteLLM's `LeastBusyLoggingHandler`). */
import { type StrategyFilter, lowestBy } from './lowest-by.ts';

export const leastBusy: StrategyFilter = (pool, load) => lowestBy(pool, (deployment) => load.get(deployment.id)?.inFlight ?? 0);
