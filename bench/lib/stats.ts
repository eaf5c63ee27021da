/**
 * Small statistics helpers for benchmark measurements (pure, no I/O).
 *
 * API:
 *   percentile(values: number[], p: number): number   // nearest-rank, p in [0, 100]; NaN when empty
 *   median(values: number[]): number                  // middle value (mean of the two middles); NaN when empty
 *   summarizeLatencies(valuesMs: number[]): LatencySummary  // count, mean, p50, p90, p99, max (ms)
 *   subtractOrNaN(a: number, b: number): number       // a - b, NaN if either side is not finite
 *   ratioOrNaN(a: number, b: number): number          // a / b, NaN if b is 0 or either is not finite
 */

export type LatencySummary = {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
};

/** Float64Array sorts numerically (Array#sort would compare as strings). */
function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile, the definition wrk and HdrHistogram use (no interpolation). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = sortedCopy(values);
  return percentileOfSorted(sorted, p);
}

function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index];
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = sortedCopy(finite);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarizeLatencies(valuesMs: readonly number[]): LatencySummary {
  if (valuesMs.length === 0) {
    return { count: 0, meanMs: NaN, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN };
  }
  const sorted = sortedCopy(valuesMs);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    meanMs: sum / sorted.length,
    p50Ms: percentileOfSorted(sorted, 50),
    p90Ms: percentileOfSorted(sorted, 90),
    p99Ms: percentileOfSorted(sorted, 99),
    maxMs: sorted[sorted.length - 1],
  };
}

export function subtractOrNaN(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) ? a - b : Number.NaN;
}

export function ratioOrNaN(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN;
}
