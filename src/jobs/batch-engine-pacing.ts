/**
 * Pacing of a batch lane's starts: lines start at most every `spacing` ms (a token bucket with a
 * small burst) rather than all together, where spacing is a share of the lane's call time divided
 * by its concurrency, so the lane's calls stay spread over the time one call takes.
 *
 * Why: a lane's calls travel in waves. A finished call starts the next line in the same turn, so
 * calls that start together end together and start their successors together, for the whole
 * batch: with a model that answers in a near-constant time (the bench's 50 ms), the upstream saw
 * 88% of milliseconds with no call arriving and bursts of 40-64 calls within 5 ms (bench/README.md,
 * issue 15). Each wave's answers are then handled back to back, holding the event loop for tens
 * of milliseconds, and a live request arriving meanwhile waits behind it. Nothing spreads a wave
 * again once formed (a stall of the event loop gathers more calls into one); pacing does, at the
 * cost of a start delayed by at most the wave's spread, and costs nothing once calls are spread,
 * since then they end no faster than the lane may start them.
 */
export interface PacingSettings {
  /**
   * Starts are spaced by this share of (call time / concurrency). Below 1, a lane may start lines
   * a little faster than its calls end in steady state, so pacing holds back bunched starts only.
   * 0 turns pacing off.
   */
  share: number;
  /** Never more than this between starts, ms: spacing slow calls further would spread nothing more on the event loop, only delay them. */
  maxSpacingMs: number;
  /** Call time assumed until a lane's first call ends, ms. */
  initialCallMs: number;
  /** Weight of each ended call in the lane's running average of call time, in (0, 1]. */
  weight: number;
}

export const DEFAULT_PACING: PacingSettings = { share: 0.8, maxSpacingMs: 2, initialCallMs: 50, weight: 0.05 };

/**
 * Starts a timer may let through at once: a timer wakes at millisecond granularity, often a little
 * late, so the bucket holds at least this many ms worth of starts (and never fewer than 2) lest the
 * timer's granularity rather than the spacing bound the rate.
 */
const TIMER_SLACK_MS = 2;

/** The token bucket of one lane: starts it may make now, as of `atMs`. */
export interface PaceState {
  tokens: number;
  atMs: number;
}

/** A lane that never started: it may start a full burst. */
export const FRESH_PACE: PaceState = { tokens: 0, atMs: Number.NEGATIVE_INFINITY };

/** The lane's running average of call time after a call of `sampleMs` ended. */
export function averageCallMs(previousMs: number | undefined, sampleMs: number, settings: PacingSettings): number {
  const sample = Math.max(0, sampleMs);
  if (previousMs === undefined) return sample;
  return previousMs + settings.weight * (sample - previousMs);
}

/** Ms between starts on a lane of `concurrency` whose calls take `callMs`; 0: not paced. */
export function startSpacingMs(callMs: number | undefined, concurrency: number, settings: PacingSettings): number {
  if (settings.share <= 0 || concurrency <= 0) return 0;
  const spacing = (settings.share * (callMs ?? settings.initialCallMs)) / concurrency;
  return Math.min(settings.maxSpacingMs, Math.max(0, spacing));
}

/** Largest burst of starts for a spacing. */
export function burstOf(spacingMs: number): number {
  return spacingMs <= 0 ? Number.POSITIVE_INFINITY : Math.max(2, Math.ceil(TIMER_SLACK_MS / spacingMs));
}

/**
 * Takes up to `wanted` starts from the bucket at `nowMs`: how many may start now, the bucket after
 * them and, when fewer than wanted, the ms until the next may.
 */
export function takeStarts(state: PaceState, nowMs: number, spacingMs: number, wanted: number): { state: PaceState; starts: number; waitMs: number } {
  if (spacingMs <= 0) return { state: { tokens: 0, atMs: nowMs }, starts: wanted, waitMs: 0 };
  const elapsed = Math.max(0, nowMs - state.atMs);
  const tokens = Math.min(burstOf(spacingMs), state.tokens + elapsed / spacingMs);
  const starts = Math.max(0, Math.min(wanted, Math.floor(tokens)));
  const left = tokens - starts;
  const waitMs = starts < wanted ? Math.max(0, (1 - left) * spacingMs) : 0;
  return { state: { tokens: left, atMs: nowMs }, starts, waitMs };
}
