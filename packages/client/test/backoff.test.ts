import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffCeiling, backoffDelay } from '../src/index.js';
import { createHarness, flush } from './client-harness.js';

describe('full-jitter backoff', () => {
  it('keeps the first retry within 100 ms with the defaults', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(0, 100, 10_000, () => 0.999_999)).toBe(100);
  });

  it('doubles the ceiling per attempt and caps it', () => {
    expect([0, 1, 2, 3, 6, 7, 8, 40].map((a) => backoffCeiling(a, 100, 10_000))).toEqual([
      100, 200, 400, 800, 6400, 10_000, 10_000, 10_000,
    ]);
  });

  it('draws over the whole range [0, ceiling] for every attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, min, extra, r) => {
          const max = min + extra;
          const delay = backoffDelay(attempt, min, max, () => r);
          const ceiling = backoffCeiling(attempt, min, max);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(ceiling);
          expect(ceiling).toBeLessThanOrEqual(max);
        },
      ),
    );
  });

  it('spreads real random draws across the range instead of clustering', () => {
    const draws = Array.from({ length: 2000 }, () => backoffDelay(3, 100, 10_000));
    // Ceiling 800: with full jitter both the lowest and highest tenth are hit.
    expect(draws.some((d) => d < 80)).toBe(true);
    expect(draws.some((d) => d > 720)).toBe(true);
    expect(Math.max(...draws)).toBeLessThanOrEqual(800);
  });
});

describe('client reconnect delays', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries the first time within 100 ms, then backs off up to the cap', async () => {
    const h = createHarness({ random: () => 0.999_999, backoff: { maxDelayMs: 1000 } });
    await h.connect();
    h.fake.last().serverClose(1006);
    await flush();
    // Lost after a welcome: the first retry is within 100 ms.
    expect(h.disconnects.map((d) => d.reconnectInMs)).toEqual([100]);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(h.disconnects.at(-1)?.reconnectInMs ?? 0);
      h.fake.last().serverClose(1006); // Each attempt fails before a welcome.
      await flush();
    }
    expect(h.disconnects.map((d) => d.reconnectInMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(h.fake.sockets).toHaveLength(6);
    h.client.disconnect();
  });

  it('starts again from the first delay after a welcome', async () => {
    const h = createHarness({ random: () => 0.999_999 });
    await h.connect();
    h.fake.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(100);
    h.fake.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(200);
    await h.accept();
    h.fake.last().serverClose(1006);
    await flush();
    expect(h.disconnects.map((d) => d.reconnectInMs)).toEqual([100, 200, 100]);
    h.client.disconnect();
  });
});
