/**
 * LiteLLM's `simple-shuffle`: a weighted random pick among a group's deployments. Deployments
 * cooling down are skipped while another is available; when all are cooling, one is picked
 * anyway (a request is better served by a cooling deployment than refused).
 */
import type { Deployment } from '../spec/provider.ts';
import type { DeploymentPreference } from './deployment-preference.ts';

export interface PickInput {
  readonly candidates: readonly Deployment[];
  /** Ids cooling down. */
  readonly cooling: ReadonlySet<string>;
  /** Ids already tried for this request: avoided while an untried one remains. */
  readonly tried?: ReadonlySet<string>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Picks from the chosen pool (a routing strategy, `strategies/`); default: the weighted shuffle. */
  readonly choose?: (pool: readonly Deployment[]) => Deployment | undefined;
  /** What the request prefers within a pool (`deployment-preference.ts`), before the order narrows it. */
  readonly prefer?: DeploymentPreference;
}

export function weightedChoice(pool: readonly Deployment[], random: () => number): Deployment | undefined {
  if (pool.length <= 1) return pool[0];
  let total = 0;
  for (const deployment of pool) total += deployment.weight;
  let point = random() * total;
  for (const deployment of pool) {
    point -= deployment.weight;
    if (point < 0) return deployment;
  }
  return pool[pool.length - 1];
}

/**
 * The deployments of the lowest `order` in a pool (LiteLLM's deployment ordering: a higher order
 * serves only while no lower one is available); deployments without an order come after every
 * ordered one. A pool with no order set is returned as it is.
 */
export function lowestOrder(pool: readonly Deployment[]): readonly Deployment[] {
  let lowest = Number.POSITIVE_INFINITY;
  for (const deployment of pool) if (deployment.order !== undefined && deployment.order < lowest) lowest = deployment.order;
  if (lowest === Number.POSITIVE_INFINITY) return pool;
  return pool.filter((deployment) => deployment.order === lowest);
}

/**
 * Preference order: untried and healthy, then untried (all cooling), then healthy (all tried),
 * then anything. Each pool is only built when the ones before it are empty; within the pool, the
 * deployments the request prefers (all of them when it prefers none), then of those the lowest
 * `order` (`lowestOrder`): a prompt too long for the first order goes to a later one that holds it.
 */
export function pickDeployment(input: PickInput): Deployment | undefined {
  const { candidates, cooling, random, prefer } = input;
  // The usual group: one deployment, which every pool would hold.
  if (candidates.length <= 1) return candidates[0];
  const pick = input.choose ?? ((pool: readonly Deployment[]) => weightedChoice(pool, random));
  const choose = (pool: readonly Deployment[]) => {
    const preferred = prefer === undefined || pool.length <= 1 ? pool : prefer(pool);
    return pick(lowestOrder(preferred.length > 0 ? preferred : pool));
  };
  const tried = input.tried ?? NONE;
  const untried = tried.size === 0 ? candidates : candidates.filter((d) => !tried.has(d.id));
  if (untried.length > 0) {
    const healthyUntried = cooling.size === 0 ? untried : untried.filter((d) => !cooling.has(d.id));
    return choose(healthyUntried.length > 0 ? healthyUntried : untried);
  }
  const healthy = cooling.size === 0 ? candidates : candidates.filter((d) => !cooling.has(d.id));
  return choose(healthy.length > 0 ? healthy : candidates);
}

const NONE: ReadonlySet<string> = new Set<string>();
