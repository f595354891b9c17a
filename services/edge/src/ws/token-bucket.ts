/**
 * A token bucket on an injected clock (milliseconds): holds up to `burst`
 * tokens and refills at `ratePerSec`. Starts full. Three numbers of state,
 * no timers.
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

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (now > this.updatedAt) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.updatedAt) * this.ratePerSec) / 1000,
      );
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens available at `now` (fractional), without taking any. */
  available(now: number): number {
    const elapsed = Math.max(0, now - this.updatedAt);
    return Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
  }
}
