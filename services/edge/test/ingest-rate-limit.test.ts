import { ConfigError } from '@agentwire/config';
import { describe, expect, it } from 'vitest';
import { parseEdgeEnv } from '../src/env.js';
import { IngestRateLimiter, retryAfterSeconds } from '../src/http/ingest-rate-limiter.js';

describe('IngestRateLimiter', () => {
  it('lets a burst in at once, then refuses with the time until the events fit', () => {
    const limiter = new IngestRateLimiter(10, 20);
    expect(limiter.take('t', 20, 0)).toEqual({ ok: true });
    expect(limiter.take('t', 1, 0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(limiter.take('t', 5, 0)).toEqual({ ok: false, retryAfterMs: 500 });
    // 10/s: 5 events fit after 500 ms.
    expect(limiter.take('t', 5, 499).ok).toBe(false);
    expect(limiter.take('t', 5, 500)).toEqual({ ok: true });
  });

  it('counts every event of a batch and refills at the rate, never above the burst', () => {
    const limiter = new IngestRateLimiter(100, 50);
    expect(limiter.take('t', 30, 0).ok).toBe(true);
    expect(limiter.take('t', 30, 0).ok).toBe(false);
    expect(limiter.take('t', 20, 0).ok).toBe(true);
    // After an hour idle the bucket holds the burst, not more.
    expect(limiter.take('t', 50, 3_600_000).ok).toBe(true);
    expect(limiter.take('t', 1, 3_600_000).ok).toBe(false);
  });

  it('sustains the rate and no more over time', () => {
    const limiter = new IngestRateLimiter(1000, 100);
    let accepted = 0;
    // A producer trying 10 events every ms (10 000/s) for 10 s.
    for (let t = 0; t < 10_000; t++) if (limiter.take('t', 10, t).ok) accepted += 10;
    expect(accepted).toBeGreaterThanOrEqual(10_000);
    expect(accepted).toBeLessThanOrEqual(10_100);
  });

  it('lets a batch larger than the burst in when full, leaving the bucket in debt', () => {
    const limiter = new IngestRateLimiter(10, 5);
    expect(limiter.take('t', 1000, 0)).toEqual({ ok: true });
    // 995 events of debt at 10/s: the next single event waits 99.6 s.
    expect(limiter.peek('t', 0)).toEqual({ ok: false, retryAfterMs: 99_600 });
    expect(limiter.take('t', 1, 99_599).ok).toBe(false);
    expect(limiter.take('t', 1, 99_600).ok).toBe(true);
  });

  it('peeks without taking', () => {
    const limiter = new IngestRateLimiter(10, 2);
    expect(limiter.peek('t', 0)).toEqual({ ok: true });
    expect(limiter.peek('t', 0)).toEqual({ ok: true });
    limiter.take('t', 2, 0);
    expect(limiter.peek('t', 0)).toEqual({ ok: false, retryAfterMs: 100 });
  });

  it('keeps one budget per token', () => {
    const limiter = new IngestRateLimiter(1, 1);
    expect(limiter.take('a', 1, 0).ok).toBe(true);
    expect(limiter.take('a', 1, 0).ok).toBe(false);
    expect(limiter.take('b', 1, 0).ok).toBe(true);
  });

  it('ignores a clock going backwards and has no limit at rate 0', () => {
    const limiter = new IngestRateLimiter(1, 1);
    expect(limiter.take('t', 1, 5000).ok).toBe(true);
    expect(limiter.take('t', 1, 1000).ok).toBe(false);
    expect(limiter.take('t', 1, 6000).ok).toBe(true);
    const unlimited = new IngestRateLimiter(0, 0);
    for (let i = 0; i < 1000; i++) expect(unlimited.take('t', 1000, 0).ok).toBe(true);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect([0, 1, 999, 1000, 1001, 99_600].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 100]);
  });
});

const required = { JWT_SECRET: '0123456789abcdef', INGEST_TOKEN: 'tok' };
const parseIngestLimitsEnv = (env: Record<string, string>) => {
  const parsed = parseEdgeEnv({ ...required, ...env });
  return {
    INGEST_RATE_PER_SEC: parsed.INGEST_RATE_PER_SEC,
    INGEST_BURST: parsed.INGEST_BURST,
    INGEST_BODY_TIMEOUT_MS: parsed.INGEST_BODY_TIMEOUT_MS,
  };
};

describe('ingest limit settings', () => {
  it('has defaults, and a burst of one second of the rate', () => {
    expect(parseIngestLimitsEnv({})).toEqual({
      INGEST_RATE_PER_SEC: 100_000,
      INGEST_BURST: 100_000,
      INGEST_BODY_TIMEOUT_MS: 10_000,
    });
    expect(parseIngestLimitsEnv({ INGEST_RATE_PER_SEC: '5' }).INGEST_BURST).toBe(5);
    expect(parseIngestLimitsEnv({ INGEST_RATE_PER_SEC: '5', INGEST_BURST: '7' }).INGEST_BURST).toBe(
      7,
    );
  });

  it.each([
    ['INGEST_RATE_PER_SEC', '-1'],
    ['INGEST_BURST', 'many'],
    ['INGEST_BODY_TIMEOUT_MS', '0'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    const parse = () => parseIngestLimitsEnv({ [variable]: value });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(variable);
  });
});
