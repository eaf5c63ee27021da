/**
 * `latency-based-routing`: the deployments with the lowest recent latency (LiteLLM's
 * `LowestLatencyLoggingHandler`). A deployment without data yet counts as fastest, so that every
 * deployment is measured before one is preferred.
 */
import { type StrategyFilter, lowestBy } from './lowest-by.ts';

export const lowestLatency: StrategyFilter = (pool, load) => lowestBy(pool, (deployment) => load.get(deployment.id)?.latencyMs ?? 0);
