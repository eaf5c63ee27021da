/**
 * Where a batch goes among a group's deployments with an enqueued-token quota
 * (`batch_max_enqueued_tokens`, Azure's): to one where it fits now, as Azure users spread their
 * batches over several deployments, rather than waiting behind (or being refused by) a full one
 * while another has room. A deployment fits when no batch waits there (waiting batches start
 * oldest first: a new one would queue behind them) and its held tokens plus this batch's stay
 * within the quota; one without a quota always fits. When none fits, the batch goes where it has
 * the smallest share of the quota ahead of it (and least to a deployment whose whole quota is
 * smaller than the batch, which refuses it outright).
 *
 * The queues are read just before the create; the create's transaction checks again under the
 * deployment's lock and is the truth, so two creates racing for the last room may still find it
 * taken (the later one then waits or is refused there, as configured).
 */
import type { Deployment } from '../../spec/provider.ts';
import type { DeploymentPreference } from '../deployment-preference.ts';
import { lowestBy } from './lowest-by.ts';

/** Estimated input tokens of a deployment's batches not yet ended: started (held), and waiting for room. */
export interface EnqueuedTokens {
  held: number;
  waiting: number;
}

const NOTHING_ENQUEUED: EnqueuedTokens = { held: 0, waiting: 0 };

function fits(deployment: Deployment, enqueued: EnqueuedTokens, tokens: number): boolean {
  const limit = deployment.batchMaxEnqueuedTokens;
  return limit === undefined || (enqueued.waiting === 0 && enqueued.held + tokens <= limit);
}

/** The share of the quota the batch would have ahead of it and in it (Infinity: it never fits). */
function backlog(deployment: Deployment, enqueued: EnqueuedTokens, tokens: number): number {
  const limit = deployment.batchMaxEnqueuedTokens;
  if (limit === undefined) return 0;
  if (tokens > limit) return Number.POSITIVE_INFINITY;
  return (enqueued.held + enqueued.waiting + tokens) / limit;
}

/** Prefers the deployments where a batch of `tokens` estimated input tokens fits now. */
export function preferEnqueuedTokenRoom(tokens: number, enqueued: ReadonlyMap<string, EnqueuedTokens>): DeploymentPreference {
  const of = (deployment: Deployment) => enqueued.get(deployment.id) ?? NOTHING_ENQUEUED;
  return (pool) => {
    const withRoom = pool.filter((deployment) => fits(deployment, of(deployment), tokens));
    return withRoom.length > 0 ? withRoom : lowestBy(pool, (deployment) => backlog(deployment, of(deployment), tokens));
  };
}
