import { nonNegativeInt, parseEnv, positiveInt } from '@agentwire/config';

/**
 * Settings of POST /v1/events hardening. Kept apart from env.ts until they
 * are folded into the edge's schema; parsed with the same helpers, so a bad
 * value fails the start with the variable's name.
 */
export const ingestLimitsEnvSchema = {
  /**
   * Events per second accepted per ingest token on this node (token bucket;
   * every event of a batch counts). Limits are per edge node, not cluster-wide.
   * 0 disables the limit. @default 100000
   */
  INGEST_RATE_PER_SEC: nonNegativeInt(100_000),
  /** Bucket size: events accepted at once after an idle period; 0 means INGEST_RATE_PER_SEC. @default 0 */
  INGEST_BURST: nonNegativeInt(0),
  /** Time a client has to send a whole request body; then 408 and the connection closes. @default 10000 */
  INGEST_BODY_TIMEOUT_MS: positiveInt(10_000),
};

export interface IngestLimits {
  /** Events per second; 0 = unlimited. */
  readonly INGEST_RATE_PER_SEC: number;
  /** Resolved bucket size (never 0 when a rate is set). */
  readonly INGEST_BURST: number;
  readonly INGEST_BODY_TIMEOUT_MS: number;
}

export function parseIngestLimitsEnv(
  env: Record<string, string | undefined> = process.env,
): IngestLimits {
  const parsed = parseEnv(ingestLimitsEnvSchema, env);
  return Object.freeze({
    ...parsed,
    INGEST_BURST: parsed.INGEST_BURST || parsed.INGEST_RATE_PER_SEC,
  });
}
