import {
  defaultInstanceId,
  instanceIdPattern,
  logLevel,
  nonNegativeInt,
  optionalPort,
  parseEnv,
  positiveInt,
  redisEnvSchema,
} from '@agentwire/config';
import { z } from 'zod';

/** Every setting of the buffer service, validated once at start. */
export const bufferEnvSchema = {
  ...redisEnvSchema,
  /** Replica id, used as consumer name and lease owner. @default hostname plus a random suffix */
  BUFFER_ID: z
    .string()
    .optional()
    .transform((v) => v ?? defaultInstanceId())
    .refine((v) => instanceIdPattern.test(v), 'expected 1-64 of [A-Za-z0-9._-]'),
  /** Port of /healthz, /readyz and /metrics (protocol.md section 8). @default METRICS_PORT, else 9090 */
  PORT: optionalPort(),
  /** Deprecated alias of PORT, used only when PORT is unset. @default unset */
  METRICS_PORT: optionalPort(),
  /**
   * Exit deadline after SIGTERM or SIGINT: past it the process exits 124,
   * naming the steps still pending. Every step that waits on Redis gets a
   * share of it, so a graceful stop ends in time even when Redis never
   * answers. Keep it below the pod's terminationGracePeriodSeconds.
   * @default 20000
   */
  STOP_GRACE_MS: positiveInt(20_000).refine((v) => v >= 1000, 'expected at least 1000'),
  /** Shard lease lifetime; a dead replica's shards move after this. @default 5000 */
  LEASE_TTL_MS: positiveInt(5000).refine((v) => v >= 300, 'expected at least 300'),
  /** An edge whose heartbeat is older is dead and reaped. @default 15000 */
  NODE_TTL_MS: positiveInt(15000),
  /** Critical events are kept per user this long. @default 86400000 (24 h) */
  RETENTION_MS: positiveInt(86_400_000),
  /** At most this many critical events are kept per user. @default 10000 */
  RETENTION_MAX_EVENTS: positiveInt(10_000),
  /** An event id seen again within this window is delivered once. @default 86400000 (24 h) */
  DEDUPE_WINDOW_MS: positiveInt(86_400_000),
  /** Bytes of UTF-8 text kept per run stream; past it the snapshot says truncated. @default 1048576 */
  RUN_MAX_BYTES: positiveInt(1_048_576),
  /** Retained runs per user; the least recently active go first. @default 100 */
  RUN_MAX_PER_USER: positiveInt(100),
  /** A run's texts are kept this long after its last event. @default 3600000 (1 h) */
  RUN_TTL_MS: positiveInt(3_600_000),
  /** Entries read from a shard per batch (one persist script call). @default 500 */
  BATCH_SIZE: positiveInt(500).refine((v) => v <= 5000, 'expected at most 5000'),
  /** Approximate max number of events in each edge inbox stream. @default 100000 */
  INBOX_MAXLEN: positiveInt(100_000),
  /** How often the retention sweep job runs. @default 60000 */
  RETENTION_SWEEP_MS: positiveInt(60_000),
  /** How often owned ingest shards are trimmed and their lag measured. @default 5000 */
  SHARD_MAINTENANCE_MS: positiveInt(5000),
  /**
   * URL that receives critical events no connection of their user acknowledged
   * within UNACKED_AFTER_MS (POST, JSON). Unset: no webhook.
   */
  UNACKED_WEBHOOK_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === '' || /^https?:\/\//.test(v),
      'expected an http(s) URL',
    ),
  /** An unacknowledged critical event older than this is reported. @default 30000 */
  UNACKED_AFTER_MS: positiveInt(30_000),
  /** How often unacknowledged events are looked for. @default 5000 */
  UNACKED_CHECK_MS: positiveInt(5000),
  /** Only users with a critical event this recent are looked at. @default 600000 */
  UNACKED_LOOKBACK_MS: positiveInt(600_000),
  /**
   * A running run with no event for this long gets a critical run_stalled
   * event from the service (protocol.md section 9); 0 turns stall detection
   * off. Checked every quarter of it (between 250 ms and 5 s). Keep it
   * identical on every buffer replica. @default 120000
   */
  RUN_STALL_MS: nonNegativeInt(120_000),
  LOG_LEVEL: logLevel,
};

/** The buffer's port when neither PORT nor METRICS_PORT is set. */
export const DEFAULT_BUFFER_PORT = 9090;

export type BufferEnv = ReturnType<typeof loadBufferEnv>;

/** Parses the buffer's environment; PORT is resolved (PORT, else METRICS_PORT, else 9090). */
export function loadBufferEnv(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(bufferEnvSchema, env);
  return Object.freeze({
    ...parsed,
    PORT: parsed.PORT ?? parsed.METRICS_PORT ?? DEFAULT_BUFFER_PORT,
  });
}
