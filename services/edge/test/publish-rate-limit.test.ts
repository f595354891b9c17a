import { describe, expect, it } from 'vitest';
import { PublishRateLimit, type PublishAdmission } from '../src/ws/publish-rate-limit.js';

const limits = { ratePerSec: 20, burst: 40, closeAfterViolations: 10, violationWindowMs: 10_000 };

function admitMany(limit: PublishRateLimit, count: number, now: number): PublishAdmission[] {
  return Array.from({ length: count }, () => limit.admit(now));
}

describe('PublishRateLimit', () => {
  it('accepts the burst, rejects the next nine, closes on the tenth rejection', () => {
    const limit = new PublishRateLimit(limits, 0);
    expect(admitMany(limit, 40, 0).every((a) => a === 'accept')).toBe(true);
    expect(admitMany(limit, 9, 1)).toEqual(Array.from({ length: 9 }, () => 'reject'));
    expect(limit.admit(2)).toBe('close');
  });

  it('does not close when the rejections are spread wider than the window', () => {
    const limit = new PublishRateLimit(limits, 0);
    admitMany(limit, 40, 0);
    // One rejected frame every 1.2 s (the bucket refills 24 tokens meanwhile: drain them first).
    const outcomes: PublishAdmission[] = [];
    for (let i = 0; i < 30; i++) {
      const now = 1 + i * 1200;
      let admission = limit.admit(now);
      while (admission === 'accept') admission = limit.admit(now);
      outcomes.push(admission);
    }
    expect(outcomes.every((a) => a === 'reject')).toBe(true);
  });

  it('accepts again once tokens refill, and a well-behaved client is never rejected', () => {
    const limit = new PublishRateLimit(limits, 0);
    admitMany(limit, 41, 0);
    expect(limit.admit(50)).toBe('accept');
    const steady = new PublishRateLimit(limits, 0);
    const outcomes: PublishAdmission[] = [];
    for (let t = 0; t < 60_000; t += 50) outcomes.push(steady.admit(t));
    expect(outcomes.every((a) => a === 'accept')).toBe(true);
  });
});
