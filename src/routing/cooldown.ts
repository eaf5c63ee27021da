/**
 * Cooldown policy (LiteLLM `allowed_fails` / `cooldown_time`): a deployment that failed
 * `allowedFails` times within a minute is skipped for `cooldownMs`. Pure functions over a small
 * state, so the in-memory and a shared (Redis) health store apply the same rule.
 */
export interface CooldownPolicy {
  readonly allowedFails: number;
  readonly cooldownMs: number;
  /** The window failures are counted in. */
  readonly windowMs: number;
}

export const FAILURE_WINDOW_MS = 60_000;

export interface DeploymentHealthState {
  /** Times (ms) of recent failures, oldest first, all within the window. */
  readonly failures: readonly number[];
  /** Until when (ms) the deployment cools down; 0 when it does not. */
  readonly coolingUntil: number;
}

export const HEALTHY: DeploymentHealthState = Object.freeze({ failures: Object.freeze([]) as readonly number[], coolingUntil: 0 });

export function afterFailure(state: DeploymentHealthState, now: number, policy: CooldownPolicy): DeploymentHealthState {
  const failures = [...state.failures.filter((at) => now - at < policy.windowMs), now];
  // allowed_fails: 0 would cool down on every failure; LiteLLM treats it as "cool on the first".
  if (failures.length >= Math.max(1, policy.allowedFails) && policy.cooldownMs > 0) {
    return { failures: [], coolingUntil: now + policy.cooldownMs };
  }
  return { failures, coolingUntil: state.coolingUntil };
}

export function isCoolingDown(state: DeploymentHealthState, now: number): boolean {
  return state.coolingUntil > now;
}
