/** Latency summary used in every report: count, min, mean, p50, p90, p99, max. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentile of an ascending array (q in [0, 100]): the smallest
 * value with at least q% of the samples at or below it. Nearest rank never
 * invents a value that was not measured, which interpolation would.
 */
export function percentileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
  const rank = Math.max(1, Math.ceil((q / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The summary of no samples: every statistic NaN. */
export const EMPTY_SUMMARY: Readonly<LatencySummary> = Object.freeze({
  count: 0,
  min: Number.NaN,
  mean: Number.NaN,
  p50: Number.NaN,
  p90: Number.NaN,
  p99: Number.NaN,
  max: Number.NaN,
});

/** Summary of raw samples (copied and sorted; the input is left alone). */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { ...EMPTY_SUMMARY };
  const sorted = Float64Array.from(values).sort();
  const asArray = Array.from(sorted);
  let sum = 0;
  for (const value of asArray) sum += value;
  return {
    count: asArray.length,
    min: asArray[0] as number,
    mean: sum / asArray.length,
    p50: percentileOfSorted(asArray, 50),
    p90: percentileOfSorted(asArray, 90),
    p99: percentileOfSorted(asArray, 99),
    max: asArray[asArray.length - 1] as number,
  };
}
