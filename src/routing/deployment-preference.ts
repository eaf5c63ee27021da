/**
 * What one request prefers among a group's deployments, beyond the configured routing strategy:
 * a narrowing of the pool the router picks from (after leaving out cooling and tried
 * deployments), which the strategy, or the weighted shuffle, then chooses within. A batch create
 * prefers deployments with room in their enqueued-token quota (`strategies/enqueued-token-room.ts`).
 */
import type { Deployment } from '../spec/provider.ts';

/**
 * Narrows a pool to the deployments the request prefers; `pickDeployment` keeps the whole pool
 * when it answers none.
 */
export type DeploymentPreference = (pool: readonly Deployment[]) => readonly Deployment[];
