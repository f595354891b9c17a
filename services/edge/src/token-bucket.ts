/**
 * A token bucket on an injected clock (milliseconds): holds up to `burst`
 * tokens, refills at `ratePerSec`, starts full; no timers. Used per
 * connection for upstream frames (cost 1) and per ingest token for events
 * (cost = events in the request). A cost above the burst is let through
 * when the bucket is full and leaves it in debt, so such a request is never
 * refused forever and the long-run rate still holds.
 */
export class TokenBucket {
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

  /** Takes `cost` tokens if there are enough. */
  take(now: number, cost = 1): boolean {
    this.refill(now);
    if (this.tokens < Math.min(cost, this.burst)) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `take(cost)` would pass; 0 when it would pass now. Takes nothing. */
  waitMs(now: number, cost = 1): number {
    this.refill(now);
    const missing = Math.min(cost, this.burst) - this.tokens;
    return missing <= 0 ? 0 : (missing * 1000) / this.ratePerSec;
  }

  /** Tokens available at `now` (fractional, negative while in debt), without taking any. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    // A clock that goes backwards refills nothing.
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.updatedAt) * this.ratePerSec) / 1000,
    );
    this.updatedAt = now;
  }
}
