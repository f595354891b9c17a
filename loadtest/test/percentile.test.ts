import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/latency-histogram.js';
import { percentileOfSorted, summarize } from '../src/percentile.js';

describe('percentileOfSorted (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks the smallest value with at least q% at or below it', () => {
    expect(percentileOfSorted(oneToHundred, 50)).toBe(50);
    expect(percentileOfSorted(oneToHundred, 90)).toBe(90);
    expect(percentileOfSorted(oneToHundred, 99)).toBe(99);
    expect(percentileOfSorted(oneToHundred, 99.5)).toBe(100);
    expect(percentileOfSorted(oneToHundred, 100)).toBe(100);
    expect(percentileOfSorted(oneToHundred, 0)).toBe(1);
  });

  it('never interpolates between samples', () => {
    expect(percentileOfSorted([10, 20], 50)).toBe(10);
    expect(percentileOfSorted([10, 20], 51)).toBe(20);
    expect(percentileOfSorted([7], 99)).toBe(7);
  });

  it('is NaN for no samples and rejects q outside [0, 100]', () => {
    expect(percentileOfSorted([], 50)).toBeNaN();
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], -1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('sorts a copy and reports min, mean, percentiles and max', () => {
    const values = [5, 1, 4, 2, 3];
    expect(summarize(values)).toEqual({
      count: 5,
      min: 1,
      mean: 3,
      p50: 3,
      p90: 5,
      p99: 5,
      max: 5,
    });
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it('reports count 0 and NaN for no samples', () => {
    const summary = summarize([]);
    expect(summary.count).toBe(0);
    expect(summary.p50).toBeNaN();
  });
});

describe('LatencyHistogram', () => {
  it('agrees with the exact nearest-rank percentile within the 3 significant digits of HdrHistogram', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.05, max: 60_000, noNaN: true }), {
          minLength: 1,
          maxLength: 400,
        }),
        fc.constantFrom(50, 90, 99, 100),
        (values, q) => {
          const histogram = new LatencyHistogram();
          for (const value of values) histogram.record(value);
          const exact = percentileOfSorted(
            [...values].sort((a, b) => a - b),
            q,
          );
          const approx = histogram.percentile(q);
          expect(approx).toBeGreaterThanOrEqual(exact);
          expect(approx).toBeLessThanOrEqual(exact * 1.001 + 0.0001);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports the exact min and max and the count', () => {
    const histogram = new LatencyHistogram();
    for (const value of [3, 1, 250, 7]) histogram.record(value);
    const summary = histogram.summary();
    expect(summary.count).toBe(4);
    expect(summary.min).toBe(1);
    expect(summary.max).toBe(250);
    expect(summary.mean).toBeCloseTo(65.25, 10);
    expect(histogram.percentile(100)).toBe(250);
  });

  it('ignores non-finite samples and clamps negative ones to zero', () => {
    const histogram = new LatencyHistogram();
    histogram.record(Number.NaN);
    histogram.record(-4);
    expect(histogram.count).toBe(1);
    expect(histogram.summary().max).toBe(0);
  });

  it('merges two histograms into the distribution of all samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 50; i++) a.record(i);
    for (let i = 51; i <= 100; i++) b.record(i);
    a.merge(b);
    expect(a.count).toBe(100);
    expect(a.percentile(50)).toBeGreaterThanOrEqual(50);
    expect(a.percentile(50)).toBeLessThan(50.06);
    expect(a.summary().max).toBe(100);
  });

  it('re-bins into equal bins of at least 1 ms up to p99.9 plus a tail bin, keeping every sample', () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) histogram.record(1 + (i % 10)); // 1..10 ms, 100 each
    const bins = histogram.distribution(30);
    expect(bins.map((bin) => bin.count)).toEqual([
      0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
    ]);
    expect(bins[0]).toMatchObject({ lowerMs: 0, upperMs: 1 });
    expect(bins[10]).toMatchObject({ lowerMs: 10, upperMs: 11 });
    histogram.record(500);
    const withTail = histogram.distribution(30);
    const tail = withTail[withTail.length - 1];
    expect(tail).toMatchObject({ lowerMs: 11, upperMs: 500, count: 1 });
    expect(withTail.reduce((sum, bin) => sum + bin.count, 0)).toBe(1001);
    for (let i = 1; i < withTail.length; i++)
      expect(withTail[i]?.lowerMs).toBe(withTail[i - 1]?.upperMs);
    expect(new LatencyHistogram().distribution()).toEqual([]);
  });
});
