import { TokenBucket } from '../token-bucket.js';

export interface PublishRateLimits {
  /** Sustained publish frames per second (UPSTREAM_RATE_PER_SEC). */
  ratePerSec: number;
  /** Frames allowed at once (UPSTREAM_BURST). */
  burst: number;
  /** Rejected frames within `violationWindowMs` that close the connection (4029). */
  closeAfterViolations: number;
  violationWindowMs: number;
}

/** accept: append it; reject: answer `rate_limited`; close: answer, then close 4029. */
export type PublishAdmission = 'accept' | 'reject' | 'close';

/**
 * The upstream rate limit of one connection: a token bucket, plus a count of
 * recent rejections so that a client that keeps pushing past the limit is
 * disconnected (protocol.md section 5: 4029 "rate limit exceeded
 * repeatedly") instead of costing a parse and an error frame per message
 * forever. Rejection times are kept in a ring of `closeAfterViolations`
 * slots: bounded, and the oldest slot says whether they all fell in the window.
 */
export class PublishRateLimit {
  private readonly bucket: TokenBucket;
  private readonly violations: Float64Array;
  private violationCount = 0;
  private next = 0;

  constructor(
    private readonly limits: PublishRateLimits,
    now: number,
  ) {
    this.bucket = new TokenBucket(limits.ratePerSec, limits.burst, now);
    this.violations = new Float64Array(Math.max(1, limits.closeAfterViolations));
  }

  admit(now: number): PublishAdmission {
    if (this.bucket.take(now)) return 'accept';
    const slots = this.violations.length;
    this.violations[this.next] = now;
    this.next = (this.next + 1) % slots;
    if (this.violationCount < slots) this.violationCount++;
    // Once the ring is full, `next` points at the oldest of the last `slots` rejections.
    if (
      this.violationCount === slots &&
      now - (this.violations[this.next] as number) <= this.limits.violationWindowMs
    ) {
      return 'close';
    }
    return 'reject';
  }
}
