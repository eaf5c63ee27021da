/**
 * Where deployment failures and cooldowns are kept. In memory for one instance; a shared
 * implementation (Redis) can replace it, which is why every method may return a promise.
 */
import { type CooldownPolicy, type DeploymentHealthState, HEALTHY, afterFailure, isCoolingDown } from './cooldown.ts';

export interface DeploymentHealth {
  recordSuccess(deploymentId: string): void | Promise<void>;
  /**
   * `cooldownMs`: the deployment's own cooldown (`cooldown_time` in its params), else the policy's;
   * `allowedFails`: the count this failure's class allows (`allowed_fails_policy`), else the policy's.
   */
  recordFailure(deploymentId: string, cooldownMs?: number, allowedFails?: number): void | Promise<void>;
  isCoolingDown(deploymentId: string): boolean | Promise<boolean>;
  /** The ids among `deploymentIds` that are cooling down (one round trip for a shared store). */
  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> | Promise<ReadonlySet<string>>;
  /** Until when (ms) each of `deploymentIds` that cools down does so; the others are absent (admin view). */
  cooldownEnds(deploymentIds: readonly string[]): ReadonlyMap<string, number>;
  /** The deployments there are now (models added through the API), for a store that re-reads their cooldowns. */
  trackDeployments?(deploymentIds: readonly string[]): void;
}

const NONE_COOLING: ReadonlySet<string> = new Set<string>();

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

  recordFailure(deploymentId: string, cooldownMs?: number, allowedFails?: number): void {
    const state = this.#states.get(deploymentId) ?? HEALTHY;
    this.#states.set(deploymentId, afterFailure(state, this.#now(), withOverrides(this.#policy, cooldownMs, allowedFails)));
  }

  isCoolingDown(deploymentId: string): boolean {
    const state = this.#states.get(deploymentId);
    return state !== undefined && isCoolingDown(state, this.#now());
  }

  cooldownEnds(deploymentIds: readonly string[]): ReadonlyMap<string, number> {
    const ends = new Map<string, number>();
    const now = this.#now();
    for (const id of deploymentIds) {
      const state = this.#states.get(id);
      if (state !== undefined && isCoolingDown(state, now)) ends.set(id, state.coolingUntil);
    }
    return ends;
  }

  coolingDown(deploymentIds: readonly string[]): ReadonlySet<string> {
    // Every request asks: the usual answer (none) allocates nothing.
    if (this.#states.size === 0) return NONE_COOLING;
    let cooling: Set<string> | undefined;
    for (const id of deploymentIds) {
      if (this.isCoolingDown(id)) (cooling ??= new Set()).add(id);
    }
    return cooling ?? NONE_COOLING;
  }
}

/** The policy with a deployment's own cooldown and a failure class's allowed count, where given. */
export function withOverrides(policy: CooldownPolicy, cooldownMs: number | undefined, allowedFails: number | undefined): CooldownPolicy {
  if (cooldownMs === undefined && allowedFails === undefined) return policy;
  return { ...policy, ...(cooldownMs !== undefined && { cooldownMs }), ...(allowedFails !== undefined && { allowedFails }) };
}
