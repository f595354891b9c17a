import { TokenBucket } from '../token-bucket.js';

/** The answer to "may these events in?": yes, or how long to wait. */
export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

const ALLOWED: RateDecision = { ok: true };

/**
 * Ingest rate limit per bearer token (protocol.md section 6, `429`). State
 * lives in this process: the limit applies per edge node. Only tokens that
 * passed authentication get here, so the map holds one entry per configured
 * ingest token (one in v1).
 */
export class IngestRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  /** `ratePerSec` 0 disables the limit. */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {}

  /** Takes `cost` events from the token's budget, or says how long to wait. */
  take(token: string, cost: number, now: number): RateDecision {
    if (this.ratePerSec === 0) return ALLOWED;
    const bucket = this.bucket(token, now);
    if (bucket.take(now, cost)) return ALLOWED;
    return { ok: false, retryAfterMs: bucket.waitMs(now, cost) };
  }

  /** Cheap check before reading a body: refuses while the budget is exhausted. */
  peek(token: string, now: number): RateDecision {
    if (this.ratePerSec === 0) return ALLOWED;
    const retryAfterMs = this.bucket(token, now).waitMs(now);
    return retryAfterMs === 0 ? ALLOWED : { ok: false, retryAfterMs };
  }

  private bucket(token: string, now: number): TokenBucket {
    let bucket = this.buckets.get(token);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.ratePerSec, this.burst, now);
      this.buckets.set(token, bucket);
    }
    return bucket;
  }
}

/** Retry-After in whole seconds, at least 1 (RFC 9110 delay-seconds). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
