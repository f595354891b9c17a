import { PublishRateLimit, type PublishRateLimits } from '../ws/publish-rate-limit.js';

/**
 * The upstream rate limit of POST /v1/publish, per user on this edge: the
 * same token bucket a WebSocket connection gets (UPSTREAM_RATE_PER_SEC,
 * UPSTREAM_BURST). Bounded: the least recently used users are forgotten past
 * `maxUsers` (a forgotten user starts with a full bucket, as a new
 * connection would).
 */
export class UserPublishLimits {
  private readonly byUser = new Map<string, PublishRateLimit>();

  constructor(
    private readonly limits: PublishRateLimits,
    private readonly maxUsers = 10_000,
  ) {}

  /** True when the user may publish one more message now. */
  admit(userId: string, now: number): boolean {
    let limit = this.byUser.get(userId);
    if (limit === undefined) {
      limit = new PublishRateLimit(this.limits, now);
      if (this.byUser.size >= this.maxUsers) {
        const oldest = this.byUser.keys().next().value;
        if (oldest !== undefined) this.byUser.delete(oldest);
      }
    } else {
      // Re-inserted: Map order is then least recently used first.
      this.byUser.delete(userId);
    }
    this.byUser.set(userId, limit);
    return limit.admit(now) === 'accept';
  }

  get size(): number {
    return this.byUser.size;
  }
}
