/**
 * Slow start for a lane that begins work: the calls it may have in flight double every `stepMs`
 * from `initial` up to its `batch_concurrency`, instead of all of them at once. A new batch's
 * first wave otherwise opens up to 64 upstream connections and builds 64 requests in one go, and
 * the live requests arriving meanwhile on the same gateway wait behind it (bench/README.md,
 * issue 15). Doubling reaches 64 from 4 in four steps, so a batch loses a fraction of a second of
 * full speed once, not per line.
 */
export interface SlowStartSettings {
  /** Calls allowed when the lane starts; 0 turns slow start off. */
  initial: number;
  /** How often the allowance doubles, ms. */
  stepMs: number;
  /** A lane with no call in flight for this long starts slowly again (its connections may be gone), ms. */
  restartAfterIdleMs: number;
}

export const DEFAULT_SLOW_START: SlowStartSettings = { initial: 4, stepMs: 50, restartAfterIdleMs: 4_000 };

/** Calls a lane of `concurrency` may have in flight `elapsedMs` after it started. */
export function slowStartLimit(concurrency: number, elapsedMs: number, settings: SlowStartSettings): number {
  if (settings.initial <= 0 || settings.stepMs <= 0) return concurrency;
  const steps = Math.floor(Math.max(0, elapsedMs) / settings.stepMs);
  // 2 ** 31 and beyond cannot be below any concurrency worth having; it also keeps the power finite.
  if (steps >= 31) return concurrency;
  return Math.min(concurrency, settings.initial * 2 ** steps);
}

/** Ms from `elapsedMs` until the allowance next grows; undefined once it is the whole concurrency. */
export function msUntilNextStep(concurrency: number, elapsedMs: number, settings: SlowStartSettings): number | undefined {
  if (slowStartLimit(concurrency, elapsedMs, settings) >= concurrency) return undefined;
  const elapsed = Math.max(0, elapsedMs);
  return settings.stepMs - (elapsed % settings.stepMs);
}
