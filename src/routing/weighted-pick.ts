/**
 * LiteLLM's `simple-shuffle`: a weighted random pick among a group's deployments. Deployments
 * cooling down are skipped while another is available; when all are cooling, one is picked
 * anyway (a request is better served by a cooling deployment than refused).
 */
import type { Deployment } from '../spec/provider.ts';

export interface PickInput {
  readonly candidates: readonly Deployment[];
  /** Ids cooling down. */
  readonly cooling: ReadonlySet<string>;
  /** Ids already tried for this request: avoided while an untried one remains. */
  readonly tried?: ReadonlySet<string>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
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
 * Preference order: untried and healthy, then untried (all cooling), then healthy (all tried),
 * then anything.
 */
export function pickDeployment(input: PickInput): Deployment | undefined {
  const { candidates, cooling, random } = input;
  const tried = input.tried ?? new Set<string>();
  const untried = candidates.filter((d) => !tried.has(d.id));
  const pools = [
    untried.filter((d) => !cooling.has(d.id)),
    untried,
    candidates.filter((d) => !cooling.has(d.id)),
    candidates,
  ];
  for (const pool of pools) {
    if (pool.length > 0) return weightedChoice(pool, random);
  }
  return undefined;
}
