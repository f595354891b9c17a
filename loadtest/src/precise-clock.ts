import { performance } from 'node:perf_hooks';

/**
 * Wall-clock time in milliseconds with microseconds, for latencies measured
 * inside the load generator (a POST's `sentAt` and its receipt by a client
 * of the same process). Date.now() counts whole milliseconds, so a
 * difference of two of them is off by up to a millisecond either way: too
 * coarse for aims of 1.5 ms. Rounded to the microsecond to keep bodies short.
 */
export function preciseNowMs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}
