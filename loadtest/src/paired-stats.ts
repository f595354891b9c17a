/** Two-sided 95 % quantiles of Student's t for 1..10 degrees of freedom (then about 2). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/** One measure of an A/B comparison: the paired rounds and what they say. */
export interface PairedComparison {
  a: number[];
  b: number[];
  meanA: number;
  meanB: number;
  /** meanB / meanA. */
  ratio: number;
  /** Mean of the per-round differences b - a. */
  meanDiff: number;
  /** Half-width of the 95 % confidence interval of meanDiff (NaN below 2 rounds). */
  ci95: number;
}

/**
 * Compares two series measured in the same rounds (round i of A beside round
 * i of B): pairing cancels what the host did to both in that round, which is
 * most of the noise on a shared machine. Rounds where either side has no
 * figure (NaN) are left out.
 */
export function comparePaired(a: readonly number[], b: readonly number[]): PairedComparison {
  const pairs = a
    .map((value, i) => [value, b[i] ?? Number.NaN] as const)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pairs.map(([x]) => x);
  const ys = pairs.map(([, y]) => y);
  const diffs = pairs.map(([x, y]) => y - x);
  const meanA = mean(xs);
  const meanB = mean(ys);
  const meanDiff = mean(diffs);
  const n = diffs.length;
  let ci95 = Number.NaN;
  if (n >= 2) {
    const variance = diffs.reduce((sum, d) => sum + (d - meanDiff) ** 2, 0) / (n - 1);
    ci95 = (T95[n - 2] ?? 1.96) * Math.sqrt(variance / n);
  }
  return { a: xs, b: ys, meanA, meanB, ratio: meanB / meanA, meanDiff, ci95 };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;
}
