/**
 * Full-jitter exponential backoff: the delay before retry `attempt` (0-based)
 * is uniform in [0, min(maxDelayMs, minDelayMs * 2^attempt)]. Spreading over
 * the whole range (not "base plus a little jitter") is what keeps thousands of
 * clients that lost the same node from reconnecting in lockstep.
 * See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  /**
   * Upper bound of the first retry's delay, in ms. The protocol asks for the
   * first retry within 100 ms.
   * @default 100
   */
  minDelayMs?: number;
  /**
   * Cap of any retry delay, in ms.
   * @default 10000
   */
  maxDelayMs?: number;
}

export const DEFAULT_MIN_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 10_000;

/** 2^30 times any sane minimum already exceeds every cap; stop doubling there. */
const MAX_EXPONENT = 30;

/** The largest delay retry `attempt` may draw. */
export function backoffCeiling(attempt: number, minDelayMs: number, maxDelayMs: number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  return Math.min(maxDelayMs, minDelayMs * 2 ** exponent);
}

/** Delay before retry `attempt`; `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  minDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * (backoffCeiling(attempt, minDelayMs, maxDelayMs) + 1));
}
