import { EMPTY_SUMMARY, type LatencySummary } from './percentile.js';

/** One bin of a re-binned distribution, for plots. */
export interface HistogramBin {
  lowerMs: number;
  upperMs: number;
  count: number;
}

const LOWEST_MS = 0.01;
const HIGHEST_MS = 600_000;
// 1% wide buckets: percentiles are exact to within 1% of the value.
const GROWTH = 1.01;
const BUCKETS = Math.ceil(Math.log(HIGHEST_MS / LOWEST_MS) / Math.log(GROWTH)) + 2;

/**
 * A latency histogram with logarithmic 1% buckets: fixed memory (about 1,800
 * counters) however many samples a long fleet run records, unlike a raw array.
 * Bucket 0 holds everything at or below 10 microseconds; the last everything
 * above 10 minutes.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = Number.NEGATIVE_INFINITY;

  /** Hot path (called per delivered event): no allocation. */
  record(valueMs: number): void {
    if (!Number.isFinite(valueMs)) return;
    const value = Math.max(0, valueMs);
    this.counts[bucketOf(value)]! += 1;
    this.total += 1;
    this.sum += value;
    if (value < this.minSeen) this.minSeen = value;
    if (value > this.maxSeen) this.maxSeen = value;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    this.minSeen = Math.min(this.minSeen, other.minSeen);
    this.maxSeen = Math.max(this.maxSeen, other.maxSeen);
  }

  get count(): number {
    return this.total;
  }

  /**
   * Nearest-rank percentile, reported as the upper edge of the bucket that
   * holds it, clamped to the observed min and max (so p100 is the true max).
   */
  percentile(q: number): number {
    if (this.total === 0) return Number.NaN;
    if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
    const rank = Math.max(1, Math.ceil((q / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return clamp(upperEdge(i), this.minSeen, this.maxSeen);
    }
    return this.maxSeen;
  }

  summary(): LatencySummary {
    if (this.total === 0) return { ...EMPTY_SUMMARY };
    return {
      count: this.total,
      min: this.minSeen,
      mean: this.sum / this.total,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.maxSeen,
    };
  }

  /**
   * The distribution re-binned into at most `maxBins` equal bins from 0 up to
   * p99.9, plus one overflow bin up to the max when the tail is longer, for a
   * plot. Bins are at least `minStepMs` wide: event timestamps have
   * millisecond resolution, and narrower bins would alternate full and empty.
   * Each 1% bucket is placed by its upper edge. Empty when nothing was recorded.
   */
  distribution(maxBins = 30, minStepMs = 1): HistogramBin[] {
    if (this.total === 0) return [];
    const top = Math.max(this.percentile(99.9), minStepMs);
    const step = Math.max(minStepMs, niceStep(top / maxBins));
    // floor + 1: the bin holding p99.9 itself is a regular bin.
    const bins = Math.floor(top / step) + 1;
    const result: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({
      lowerMs: i * step,
      upperMs: (i + 1) * step,
      count: 0,
    }));
    const overflow: HistogramBin = { lowerMs: bins * step, upperMs: this.maxSeen, count: 0 };
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.counts[i]!;
      if (count === 0) continue;
      // The epsilon keeps an integer sample whose bucket edge rounds just below it in its own bin.
      const value = clamp(upperEdge(i), this.minSeen, this.maxSeen) * (1 + 1e-9);
      const index = Math.floor(value / step);
      if (index < bins) result[index]!.count += count;
      else overflow.count += count;
    }
    if (overflow.count > 0) result.push(overflow);
    return result;
  }
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

function bucketOf(value: number): number {
  if (value <= LOWEST_MS) return 0;
  const index = Math.ceil(Math.log(value / LOWEST_MS) / Math.log(GROWTH));
  return Math.min(BUCKETS - 1, index);
}

function upperEdge(bucket: number): number {
  return LOWEST_MS * Math.pow(GROWTH, bucket);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
