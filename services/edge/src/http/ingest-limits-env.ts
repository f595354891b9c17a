import { nonNegativeInt, positiveInt } from '@agentwire/config';

/**
 * Settings of POST /v1/events hardening, part of the edge's env schema.
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
  /** Resolved bucket size (one second of the rate when INGEST_BURST is 0). */
  readonly INGEST_BURST: number;
  readonly INGEST_BODY_TIMEOUT_MS: number;
}
