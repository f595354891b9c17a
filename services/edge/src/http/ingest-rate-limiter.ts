/** The answer to "may these events in?": yes, or how long to wait. */
export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

const ALLOWED: RateDecision = { ok: true };

/**
 * Weighted token bucket: holds up to `burst` tokens, refills at `ratePerSec`,
 * and a request costs one token per event. A request larger than the burst
 * is let in when the bucket is full and leaves it in debt, so such a batch
 * is never refused forever and the long-run rate still holds.
 */
class EventBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  take(cost: number, now: number): RateDecision {
    this.refill(now);
    const needed = Math.min(cost, this.burst);
    if (this.tokens >= needed) {
      this.tokens -= cost;
      return ALLOWED;
    }
    return { ok: false, retryAfterMs: ((needed - this.tokens) * 1000) / this.ratePerSec };
  }

  /** Would a one-event request pass? Takes nothing. */
  peek(now: number): RateDecision {
    this.refill(now);
    if (this.tokens >= 1) return ALLOWED;
    return { ok: false, retryAfterMs: ((1 - this.tokens) * 1000) / this.ratePerSec };
  }

  private refill(now: number): void {
    // A clock that goes backwards refills nothing.
    if (now <= this.updatedAt) return;
    const refilled = this.tokens + ((now - this.updatedAt) * this.ratePerSec) / 1000;
    this.tokens = Math.min(this.burst, refilled);
    this.updatedAt = now;
  }
}

/**
 * Ingest rate limit per bearer token (protocol.md section 6, `429`). State
 * lives in this process: the limit applies per edge node. Only tokens that
 * passed authentication get here, so the map holds one entry per configured
 * ingest token (one in v1).
 */
export class IngestRateLimiter {
  private readonly buckets = new Map<string, EventBucket>();

  /** `ratePerSec` 0 disables the limit. */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {}

  /** Takes `cost` events from the token's budget, or says how long to wait. */
  take(token: string, cost: number, now: number): RateDecision {
    if (this.ratePerSec === 0) return ALLOWED;
    return this.bucket(token, now).take(cost, now);
  }

  /** Cheap check before reading a body: refuses while the budget is exhausted. */
  peek(token: string, now: number): RateDecision {
    if (this.ratePerSec === 0) return ALLOWED;
    return this.bucket(token, now).peek(now);
  }

  private bucket(token: string, now: number): EventBucket {
    let bucket = this.buckets.get(token);
    if (bucket === undefined) {
      bucket = new EventBucket(this.ratePerSec, this.burst, now);
      this.buckets.set(token, bucket);
    }
    return bucket;
  }
}

/** Retry-After in whole seconds, at least 1 (RFC 9110 delay-seconds). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
