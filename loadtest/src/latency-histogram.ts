import type { LatencySummary } from './percentile.js';

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
    if (this.total === 0) {
      return {
        count: 0,
        min: Number.NaN,
        mean: Number.NaN,
        p50: Number.NaN,
        p90: Number.NaN,
        p99: Number.NaN,
        max: Number.NaN,
      };
    }
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
   * The distribution re-binned into at most `bins` logarithmic bins between the
   * observed min and max, for a plot. Empty when nothing was recorded.
   */
  distribution(bins = 30): HistogramBin[] {
    if (this.total === 0) return [];
    const low = Math.max(this.minSeen, LOWEST_MS);
    const high = Math.max(this.maxSeen, low * GROWTH);
    const ratio = Math.pow(high / low, 1 / bins);
    const result: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({
      lowerMs: i === 0 ? 0 : low * Math.pow(ratio, i),
      upperMs: low * Math.pow(ratio, i + 1),
      count: 0,
    }));
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.counts[i]!;
      if (count === 0) continue;
      // Place each bucket by its midpoint, clamped into the observed range.
      const mid = clamp(Math.sqrt(lowerEdge(i) * upperEdge(i)), low, high);
      const index = Math.min(
        bins - 1,
        Math.max(0, Math.floor(Math.log(mid / low) / Math.log(ratio))),
      );
      result[index]!.count += count;
    }
    return result;
  }
}

function bucketOf(value: number): number {
  if (value <= LOWEST_MS) return 0;
  const index = Math.ceil(Math.log(value / LOWEST_MS) / Math.log(GROWTH));
  return Math.min(BUCKETS - 1, index);
}

function upperEdge(bucket: number): number {
  return LOWEST_MS * Math.pow(GROWTH, bucket);
}

function lowerEdge(bucket: number): number {
  return bucket === 0 ? 0 : LOWEST_MS * Math.pow(GROWTH, bucket - 1);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
