import type { PublishRateLimits } from './publish-rate-limit.js';

/** Per-connection bounds, derived once from the environment. */
export interface ConnectionLimits {
  /** Send buffer above which non-critical events are dropped. */
  softBytes: number;
  /** Send buffer above which the socket is closed with 4408. */
  hardBytes: number;
  /** Live events held while the connection opens or replays. */
  queueMaxItems: number;
  queueMaxBytes: number;
  /** Unacknowledged critical seqs tracked per connection. */
  ackTrackCapacity: number;
  /** Upstream `publish` rate limit. */
  publish: PublishRateLimits;
}
