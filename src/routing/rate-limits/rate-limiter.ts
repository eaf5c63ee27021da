/**
 * Budgets counted over a time window (requests per minute, tokens per minute), kept per key.
 *
 * The contract is small on purpose, so that a shared implementation (Redis, for several
 * instances) can sit behind it; every method is async for that reason. The in-memory one is
 * `in-memory-rate-limiter.ts`.
 *
 * Semantics every implementation keeps:
 * - Usage is a sliding window over `windowMs`, approximated from two fixed windows aligned to
 *   multiples of `windowMs` since the epoch (so instances sharing a store agree on the windows):
 *   `usage = previous * (1 - elapsed / windowMs) + current`. In Redis this is two counters,
 *   `<key>:<floor(now / windowMs)>` and the one before, each with a TTL of two windows.
 * - `tryAcquire` is atomic per key: check and add happen together (a Lua script in Redis), so
 *   two callers can never both take the last unit.
 * - `record` adds unconditionally: usage that happened anyway (a live request) or a correction
 *   (negative amounts give back what was taken and not used). Usage never reads below 0.
 * - The same key is always used with the same `windowMs`.
 */

export interface RateLimitDecision {
  granted: boolean;
  /** Usage in the window after the call (including the grant when granted). */
  used: number;
  /** When not granted: about how long until `amount` would fit, ms (0 when granted). */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Adds `amount` to the key's usage if usage + `amount` stays within `limit`; else changes nothing. */
  tryAcquire(key: string, amount: number, limit: number, windowMs: number): Promise<RateLimitDecision>;
  /** Adds `amount` (may be negative) to the key's usage, whatever the limit. */
  record(key: string, amount: number, windowMs: number): Promise<void>;
  /** The key's usage over the window ending now. */
  usage(key: string, windowMs: number): Promise<number>;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Give up (answer false) after waiting this long. Default: wait as long as it takes. */
  maxWaitMs?: number;
  /** Waits between tries; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Waits until `amount` fits in the key's budget and takes it: tries, sleeps the advised time,
 * tries again. Answers false when `maxWaitMs` passed first; rejects when `signal` aborts.
 * An `amount` above `limit` can never fit and answers false at once.
 */
export async function acquire(
  limiter: RateLimiter,
  key: string,
  amount: number,
  limit: number,
  windowMs: number,
  options: AcquireOptions = {},
): Promise<boolean> {
  if (amount > limit) return false;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = options.maxWaitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.maxWaitMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const decision = await limiter.tryAcquire(key, amount, limit, windowMs);
    if (decision.granted) return true;
    const wait = Math.max(1, decision.retryAfterMs);
    if (Date.now() + wait > deadline) return false;
    await sleep(wait, options.signal);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
