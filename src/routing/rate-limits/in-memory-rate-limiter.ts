/**
 * `RateLimiter` for one instance: the sliding-window counter of `rate-limiter.ts`, in a Map.
 * Synchronous inside (each call is atomic on the event loop); async outside, like the shared one.
 */
import type { RateLimitDecision, RateLimiter } from './rate-limiter.ts';

interface WindowState {
  /** Index of the current fixed window: floor(now / windowMs). */
  index: number;
  current: number;
  previous: number;
}

export class InMemoryRateLimiter implements RateLimiter {
  readonly #now: () => number;
  readonly #windows = new Map<string, WindowState>();

  /** `now` in ms, injectable for tests. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async tryAcquire(key: string, amount: number, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = this.#now();
    const state = this.#state(key, windowMs, now);
    const used = usageOf(state, windowMs, now);
    if (used + amount <= limit) {
      state.current += amount;
      return { granted: true, used: used + amount, retryAfterMs: 0 };
    }
    return { granted: false, used, retryAfterMs: waitUntilFits(state, amount, limit, windowMs, now) };
  }

  async record(key: string, amount: number, windowMs: number): Promise<void> {
    const state = this.#state(key, windowMs, this.#now());
    state.current += amount;
  }

  async usage(key: string, windowMs: number): Promise<number> {
    const now = this.#now();
    return usageOf(this.#state(key, windowMs, now), windowMs, now);
  }

  /** The key's windows, rolled forward to `now`. */
  #state(key: string, windowMs: number, now: number): WindowState {
    const index = Math.floor(now / windowMs);
    let state = this.#windows.get(key);
    if (!state) {
      state = { index, current: 0, previous: 0 };
      this.#windows.set(key, state);
    } else if (state.index !== index) {
      state.previous = state.index === index - 1 ? state.current : 0;
      state.current = 0;
      state.index = index;
    }
    return state;
  }
}

function usageOf(state: WindowState, windowMs: number, now: number): number {
  const elapsed = (now - state.index * windowMs) / windowMs;
  return Math.max(0, state.previous * (1 - elapsed) + state.current);
}

/** Ms until usage + amount <= limit if nothing else is taken meanwhile (at least 1). */
function waitUntilFits(state: WindowState, amount: number, limit: number, windowMs: number, now: number): number {
  if (amount > limit) return windowMs;
  const windowStart = state.index * windowMs;
  const elapsed = (now - windowStart) / windowMs;
  const room = limit - amount - state.current;
  if (room >= 0 && state.previous > 0) {
    // Still in this window, once enough of the previous one has slid out.
    const needed = 1 - room / state.previous;
    return Math.max(1, Math.ceil((needed - elapsed) * windowMs));
  }
  // Only in the next window, where this window's count becomes the sliding-out one.
  const untilNext = windowStart + windowMs - now;
  const needed = state.current > 0 ? Math.max(0, 1 - (limit - amount) / state.current) : 0;
  return Math.max(1, Math.ceil(untilNext + needed * windowMs));
}
