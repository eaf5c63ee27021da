/**
 * LiteLLM's `router_settings.routing_strategy` values, each a small pure choice among the
 * deployments `pickDeployment` left in play (untried, not cooling), given their load
 * (https://docs.litellm.ai/docs/routing#advanced---routing-strategies). Ties go to the
 * weighted shuffle, so `weight` still shares traffic between equals.
 */
import type { Deployment } from '../../spec/provider.ts';
import type { DeploymentLoad } from '../routing-stats.ts';
import { weightedChoice } from '../weighted-pick.ts';
import { leastBusy } from './least-busy.ts';
import { lowestLatency } from './lowest-latency.ts';
import { lowestUsage } from './lowest-usage.ts';
import type { StrategyFilter } from './lowest-by.ts';

export const ROUTING_STRATEGIES = ['simple-shuffle', 'least-busy', 'latency-based-routing', 'usage-based-routing-v2'] as const;
export type RoutingStrategyName = (typeof ROUTING_STRATEGIES)[number];

const FILTERS: Readonly<Record<Exclude<RoutingStrategyName, 'simple-shuffle'>, StrategyFilter>> = {
  'least-busy': leastBusy,
  'latency-based-routing': lowestLatency,
  'usage-based-routing-v2': lowestUsage,
};

/** A `choose` for `pickDeployment`: the strategy's preferred deployments, then the weighted shuffle among them. */
export function strategyChooser(
  strategy: Exclude<RoutingStrategyName, 'simple-shuffle'>,
  load: ReadonlyMap<string, DeploymentLoad>,
  random: () => number,
): (pool: readonly Deployment[]) => Deployment | undefined {
  const filter = FILTERS[strategy];
  return (pool) => weightedChoice(pool.length <= 1 ? pool : filter(pool, load), random);
}
