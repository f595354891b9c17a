import { describe, expect, it } from 'vitest';
import { comparePaired } from '../src/paired-stats.js';

describe('comparePaired', () => {
  it('gives means, ratio and the mean paired difference with its 95 % interval', () => {
    const result = comparePaired([10, 12, 11, 13], [9, 11, 10, 11]);
    expect(result.meanA).toBe(11.5);
    expect(result.meanB).toBe(10.25);
    expect(result.ratio).toBeCloseTo(10.25 / 11.5, 10);
    expect(result.meanDiff).toBe(-1.25);
    // Differences -1, -1, -1, -2: sd 0.5, n 4, t(3) 3.182.
    expect(result.ci95).toBeCloseTo((3.182 * 0.5) / 2, 10);
  });

  it('pairs round by round, so a drift both sides share does not count', () => {
    const result = comparePaired([10, 20, 30], [11, 21, 31]);
    expect(result.meanDiff).toBe(1);
    expect(result.ci95).toBe(0);
  });

  it('leaves out rounds without a figure on either side, and has no interval below two pairs', () => {
    const result = comparePaired([10, Number.NaN, 12], [11, 5, Number.NaN]);
    expect(result.a).toEqual([10]);
    expect(result.b).toEqual([11]);
    expect(result.meanDiff).toBe(1);
    expect(result.ci95).toBeNaN();
  });
});
