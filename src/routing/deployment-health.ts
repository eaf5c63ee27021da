/**
 * Where deployment failures and cooldowns are kept. In memory for one instance; a shared
 * implementation (Redis) can replace it, which is why every method may return a promise.
 */
import { type CooldownPolicy, type DeploymentHealthState, HEALTHY, afterFailure, isCoolingDown } from './cooldown.ts';

export interface DeploymentHealth {
  recordSuccess(deploymentId: string): void | Promise<void>;
  recordFailure(deploymentId: string): void | Promise<void>;
  isCoolingDown(deploymentId: string): boolean | Promise<boolean>;
  /** The ids among `deploymentIds` that are cooling down (one round trip for a shared store). */
  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> | Promise<ReadonlySet<string>>;
}

export class InMemoryDeploymentHealth implements DeploymentHealth {
  readonly #policy: CooldownPolicy;
  readonly #now: () => number;
  readonly #states = new Map<string, DeploymentHealthState>();

  constructor(policy: CooldownPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  recordSuccess(_deploymentId: string): void {
    // Failures age out of the window; a success does not erase them (LiteLLM counts per minute).
  }

  recordFailure(deploymentId: string): void {
    const state = this.#states.get(deploymentId) ?? HEALTHY;
    this.#states.set(deploymentId, afterFailure(state, this.#now(), this.#policy));
  }

  isCoolingDown(deploymentId: string): boolean {
    const state = this.#states.get(deploymentId);
    return state !== undefined && isCoolingDown(state, this.#now());
  }

  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> {
    const cooling = new Set<string>();
    for (const id of deploymentIds) if (this.isCoolingDown(id)) cooling.add(id);
    return cooling;
  }
}
