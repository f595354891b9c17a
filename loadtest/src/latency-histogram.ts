import { build, JsHistogram, type Histogram } from 'hdr-histogram-js';
import { EMPTY_SUMMARY, type LatencySummary } from './percentile.js';

/** One bin of a re-binned distribution, for plots. */
export interface HistogramBin {
  lowerMs: number;
  upperMs: number;
  count: number;
}

// Samples are stored as integers in units of 0.1 microsecond (HdrHistogram counts integers).
const UNITS_PER_MS = 10_000;
// 10 minutes: anything slower is recorded as 10 minutes (the exact max is kept separately).
const HIGHEST_UNITS = 600_000 * UNITS_PER_MS;

/**
 * A latency histogram backed by HdrHistogram (hdr-histogram-js, pure
 * JavaScript, 3 significant digits): fixed memory however many samples a long
 * fleet run records. Values are milliseconds, kept at 0.1 µs resolution and
 * rounded up, so a percentile is never below the exact nearest-rank value and
 * at most 0.1 % (plus 0.1 µs) above it. The exact min, max and mean are kept
 * next to the histogram.
 */
export class LatencyHistogram {
  private readonly hdr: Histogram = build({
    useWebAssembly: false,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_UNITS,
    numberOfSignificantValueDigits: 3,
  });
  private sum = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = Number.NEGATIVE_INFINITY;

  /** Hot path (called per delivered event): no allocation. */
  record(valueMs: number): void {
    if (!Number.isFinite(valueMs)) return;
    const value = Math.max(0, valueMs);
    this.hdr.recordValue(Math.min(HIGHEST_UNITS, Math.ceil(value * UNITS_PER_MS)));
    this.sum += value;
    if (value < this.minSeen) this.minSeen = value;
    if (value > this.maxSeen) this.maxSeen = value;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    this.hdr.add(other.hdr);
    this.sum += other.sum;
    this.minSeen = Math.min(this.minSeen, other.minSeen);
    this.maxSeen = Math.max(this.maxSeen, other.maxSeen);
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  /**
   * Percentile q in [0, 100]: HdrHistogram's value at that percentile (the
   * highest value equivalent to the sample at that rank), clamped to the
   * observed min and max (so p100 is the true max).
   */
  percentile(q: number): number {
    if (this.count === 0) return Number.NaN;
    if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
    return clamp(this.hdr.getValueAtPercentile(q) / UNITS_PER_MS, this.minSeen, this.maxSeen);
  }

  summary(): LatencySummary {
    const count = this.count;
    if (count === 0) return { ...EMPTY_SUMMARY };
    return {
      count,
      min: this.minSeen,
      mean: this.sum / count,
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
   * Each HdrHistogram bucket is placed by its highest equivalent value.
   * Empty when nothing was recorded.
   */
  distribution(maxBins = 30, minStepMs = 1): HistogramBin[] {
    if (this.count === 0) return [];
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
    for (const [units, count] of recordedValues(this.hdr)) {
      const value = clamp(units / UNITS_PER_MS, this.minSeen, this.maxSeen);
      const index = Math.floor(value / step);
      if (index < bins) result[index]!.count += count;
      else overflow.count += count;
    }
    if (overflow.count > 0) result.push(overflow);
    return result;
  }
}

/** [highest equivalent value, count] of every non-empty HdrHistogram bucket. */
function recordedValues(hdr: Histogram): Array<[number, number]> {
  if (!(hdr instanceof JsHistogram)) throw new Error('expected the JavaScript HdrHistogram');
  const iterator = hdr.recordedValuesIterator;
  iterator.reset();
  const values: Array<[number, number]> = [];
  while (iterator.hasNext()) {
    const step = iterator.next();
    values.push([step.valueIteratedTo, step.countAtValueIteratedTo]);
  }
  return values;
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
