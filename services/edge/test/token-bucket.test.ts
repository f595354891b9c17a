import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full: the burst passes at once, the next one does not', () => {
    const bucket = new TokenBucket(20, 40, 1000);
    const taken = Array.from({ length: 41 }, () => bucket.take(1000));
    expect(taken.filter(Boolean)).toHaveLength(40);
    expect(taken.at(-1)).toBe(false);
  });

  it('refills at the rate, from the injected clock', () => {
    const bucket = new TokenBucket(20, 40, 0);
    for (let i = 0; i < 40; i++) bucket.take(0);
    // 20/s: one token per 50 ms.
    expect(bucket.take(49)).toBe(false);
    expect(bucket.take(50)).toBe(true);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.available(550)).toBeCloseTo(10, 5);
    expect(Array.from({ length: 11 }, () => bucket.take(550)).filter(Boolean)).toHaveLength(10);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const bucket = new TokenBucket(20, 40, 0);
    expect(bucket.available(3_600_000)).toBe(40);
    const taken = Array.from({ length: 50 }, () => bucket.take(3_600_000));
    expect(taken.filter(Boolean)).toHaveLength(40);
  });

  it('sustains exactly the rate over time', () => {
    const bucket = new TokenBucket(20, 40, 0);
    let accepted = 0;
    // A client sending 100/s for 10 s: 40 burst + 20/s x 10 s.
    for (let t = 0; t < 10_000; t += 10) if (bucket.take(t)) accepted++;
    expect(accepted).toBeGreaterThanOrEqual(238);
    expect(accepted).toBeLessThanOrEqual(240);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket(1, 1, 1000);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(1999)).toBe(false);
    expect(bucket.take(2000)).toBe(true);
  });
});
